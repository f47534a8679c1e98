// Device memory composition and the one atomic commit (assembly/devmem/memory.ts)
// against the host fake's region.
import { DeviceMemory } from "../../../assembly/devmem/memory";
import { ValueSet } from "../../../assembly/devmem/values";
import { E_IO, E_NOTFOUND, E_TOOLARGE, OK } from "../../../assembly/util/errors";
import {
  fake_reset, fakeConfig, fake_devmem_byte, fake_devmem_commits, fake_devmem_fail_next, fake_devmem_set,
  fake_devmem_size,
} from "../../fakes/fake";

const m = new DeviceMemory();
const low = new ValueSet();
const high = new ValueSet();

describe("DeviceMemory", () => {
  beforeEach(() => {
    fake_reset();
    low.clear();
    high.clear();
  });
  it("needs platform.devmem_bytes and refuses a region above DEVMEM_MAX", () => {
    expect(m.init()).toBe(E_NOTFOUND);
    fakeConfig("platform.devmem_bytes", "512");
    expect(m.init()).toBe(E_TOOLARGE);
  });
  it("starts from the image the host restored", () => {
    fakeConfig("platform.devmem_bytes", "256");
    fake_devmem_set(9, 0x99);
    expect(m.init()).toBe(OK);
    expect(m.size).toBe(256);
    expect(m.byte(9)).toBe(0x99);
  });
  it("lays sets over the current image, later wins, unnamed bytes keep their value", () => {
    fakeConfig("platform.devmem_bytes", "256");
    fake_devmem_set(5, 0x55);
    m.init();
    low.put(0, 1); low.put(1, 2);
    high.put(1, 9);
    m.begin(); m.overlay(low); m.overlay(high);
    expect(m.changed).toBe(true);
    expect(m.commit()).toBe(OK);
    expect(fake_devmem_commits()).toBe(1);
    expect(fake_devmem_byte(0)).toBe(1);
    expect(fake_devmem_byte(1)).toBe(9);
    expect(fake_devmem_byte(5)).toBe(0x55);
    // The same sets again: nothing changes.
    m.begin(); m.overlay(low); m.overlay(high);
    expect(m.changed).toBe(false);
  });
  it("a failed commit leaves the image as it was", () => {
    fakeConfig("platform.devmem_bytes", "16");
    fake_devmem_size(16);
    m.init();
    low.put(3, 7);
    m.begin(); m.overlay(low);
    fake_devmem_fail_next(E_IO);
    expect(m.commit()).toBe(E_IO);
    expect(m.byte(3)).toBe(0);
    expect(fake_devmem_byte(3)).toBe(0);
    expect(m.commit()).toBe(OK);
    expect(m.byte(3)).toBe(7);
    expect(fake_devmem_byte(3)).toBe(7);
  });
});
