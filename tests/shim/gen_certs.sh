#!/usr/bin/env bash
# Makes the EC P-256 test PKI for the shim's TLS tests in directory $1:
#   ca.pem/ca.key            the trusted CA
#   other-ca.pem             a CA the shim does not trust (wrong CA)
#   server.pem/.key          CN=localhost, SAN DNS:localhost, IP:127.0.0.1
#   expired.pem/.key         like server, valid 2020-01-01 .. 2021-01-01
#   wrongname.pem/.key       SAN DNS:wrong.example only (hostname mismatch)
#   untrusted.pem/.key       like server, signed by other-ca
#   client.pem/.key          CN=system:node:pico-a, O=system:nodes (DESIGN.md identity)
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ca() { # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "$2" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # name ca subject extfile-lines
  key "$1.key"
  openssl req -new -key "$1.key" -subj "$3" -out "$1.csr"
  printf '%b\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -sha256 -days 2 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
ca ca "/CN=shim-test-ca"
ca other-ca "/CN=shim-test-other-ca"
server_ext="subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
leaf server ca "/CN=localhost" "$server_ext"
leaf untrusted other-ca "/CN=localhost" "$server_ext"
leaf wrongname ca "/CN=wrong.example" "subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth"
leaf client ca "/O=system:nodes/CN=system:node:pico-a" "extendedKeyUsage=clientAuth"

# Expired: `openssl ca` is the 3.0 CLI's way to set past validity dates.
key expired.key
openssl req -new -key expired.key -subj "/CN=localhost" -out expired.csr
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
dir = ca-db
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
CNF
openssl ca -batch -config ca-db/ca.cnf -in expired.csr -out expired.pem -notext \
  -startdate 20200101000000Z -enddate 20210101000000Z 2>/dev/null
