// The nodes/<subresource> attributes a request path is authorized with, as
// kubelet 1.36's GetRequestAttributes builds them (pkg/kubelet/server/auth.go).
import { fineSubresourceOf, subresourceOf } from "../../../assembly/kubelet/routes";
import { Lit, litLen, litPtr } from "../../../assembly/util/lit";

function text(l: Lit): string {
  return l == 0 ? "-" : String.UTF8.decodeUnsafe(litPtr(l), <usize>litLen(l));
}

/** "fine coarse" for a path. */
function attrs(path: string): string {
  const b = String.UTF8.encode(path);
  const p = changetype<usize>(b);
  const n = b.byteLength;
  return text(fineSubresourceOf(p, n)) + " " + text(subresourceOf(p, n));
}

describe("kubelet authorization attributes", () => {
  it("fine-grained subresources first where kubelet has them", () => {
    expect(attrs("/pods")).toBe("pods proxy");
    expect(attrs("/pods/")).toBe("pods proxy");
    expect(attrs("/healthz")).toBe("healthz proxy");
    expect(attrs("/healthz/ping")).toBe("healthz proxy");
    expect(attrs("/configz")).toBe("configz proxy");
    expect(attrs("/runningpods/")).toBe("pods proxy");
  });
  it("coarse subresources by path prefix, proxy for the rest", () => {
    expect(attrs("/stats/summary")).toBe("- stats");
    expect(attrs("/stats")).toBe("- stats");
    expect(attrs("/metrics")).toBe("- metrics");
    expect(attrs("/metrics/resource")).toBe("- metrics");
    expect(attrs("/logs/")).toBe("- log");
    expect(attrs("/checkpoint/ns/pod/c")).toBe("- checkpoint");
    expect(attrs("/statusz")).toBe("- statusz");
    expect(attrs("/flagz")).toBe("- configz");
    expect(attrs("/containerLogs/ns/pod/c")).toBe("- proxy");
  });
  it("a prefix is a whole path segment", () => {
    expect(attrs("/podsx")).toBe("- proxy");
    expect(attrs("/healthzz")).toBe("- proxy");
    expect(attrs("/metricsfoo")).toBe("- proxy");
    expect(attrs("/statsx")).toBe("- proxy");
  });
});
