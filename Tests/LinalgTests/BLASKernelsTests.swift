import Testing
@testable import Linalg

@Suite("OpenBLAS kernel choice")
struct BLASKernelsTests {
    let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]

    @Test("re-launch only from a generic (or measured-slower) kernel set the CPU outclasses, never over the user's choice")
    func preferredCoreTypeRule() {
        func pick(_ core: String, _ flags: Set<String>, _ env: [String: String] = [:]) -> String? {
            BLASKernels.preferredCoreType(currentCore: core, cpuFlags: flags, environment: env)
        }
        #expect(pick("Prescott", avx512) == "SkylakeX")
        #expect(pick("Cooperlake", avx512) == "SkylakeX")
        #expect(pick("Prescott", avx2) == "Haswell")
        #expect(pick("Prescott", ["sse3"]) == nil)            // nothing better to pick
        #expect(pick("Haswell", avx2) == nil)
        #expect(pick("Zen", avx2) == nil)                      // a recognised CPU keeps OpenBLAS's choice
        #expect(pick("SkylakeX", avx512) == nil)
        #expect(pick("Prescott", avx512, ["OPENBLAS_CORETYPE": "Haswell"]) == nil)
        #expect(pick("Prescott", avx512, ["OPENBLAS_CORETYPE": ""]) == nil)
        #expect(pick("Prescott", avx512, ["ISAC_BLAS_CORETYPE": "keep"]) == nil)
        #expect(pick("Prescott", avx512, ["ISAC_BLAS_CORETYPE": "KEEP"]) == nil)
        #expect(pick("Prescott", avx512, ["ISAC_BLAS_CORETYPE": "Haswell"]) == "Haswell")
        #expect(pick("Haswell", avx512, ["ISAC_BLAS_CORETYPE": "haswell"]) == nil)
    }

    @Test("cpu flags are read from the flags line of /proc/cpuinfo")
    func cpuFlagsParse() {
        let text = "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu SSE3 avx2 fma\nbugs\t\t: none\n"
        #expect(BLASKernels.cpuFlags(cpuinfo: text) == ["fpu", "sse3", "avx2", "fma"])
        #expect(BLASKernels.cpuFlags(cpuinfo: "no flags here") == [])
        #expect(BLASKernels.cpuFlags(cpuinfo: nil) == [])
    }

    @Test("the loaded kernel set has a name")
    func coreNameIsReported() {
        #expect(!BLASKernels.coreName.isEmpty)
    }
}
