import Foundation
internal import CLinalg

/// Which OpenBLAS kernel set this process runs, and a fix for Debian OpenBLAS's slow fallback on CPUs it does not
/// recognise.
///
/// Debian's OpenBLAS (0.3.21, `DYNAMIC_ARCH`) picks its kernel table once, when the library is loaded, from the
/// CPU model it reads. On virtual machines whose CPU model it does not know (seen here: a KVM "Intel(R) Xeon(R)
/// Processor" with AVX-512 and AVX512-BF16, i.e. Cooper Lake) it falls back to `Prescott`, its generic SSE3 kernels.
/// Measured on that 2-core VM, 1 thread, `isac bench foundation` (docs/BENCHMARKS.md): `Prescott` (the automatic
/// choice) vs `OPENBLAS_CORETYPE=Cooperlake` vs `SkylakeX` — dgemm 5 / 46 / 73 GFLOP/s, zgemm 1024² 5 / 47 / 78.
/// The choice cannot be changed after load, so `isac` re-launches itself once (`/proc/self/exe`, same arguments)
/// with `OPENBLAS_CORETYPE` set when OpenBLAS chose a generic kernel set that the CPU's own feature flags
/// (`/proc/cpuinfo`) clearly outclass: AVX-512 F/CD/BW/DQ/VL → `SkylakeX` (also over `Cooperlake`, measured slower);
/// AVX2 + FMA → `Haswell`. Nothing changes on a CPU OpenBLAS recognises, or when the user set `OPENBLAS_CORETYPE`.
/// `ISAC_BLAS_CORETYPE=keep` turns the re-launch off; `ISAC_BLAS_CORETYPE=NAME` asks for a kernel set by name.
/// Results are then those of the chosen kernels (same seed → same result for a given machine and setting; the
/// last bits of rounding can differ between kernel sets).
public enum BLASKernels {
    /// OpenBLAS's name for the kernel set in use (`openblas_get_corename`), e.g. `Haswell`, `SkylakeX`, `Zen`.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Kernel sets OpenBLAS falls back to that predate AVX2 (lower-cased names).
    static let genericCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "nano",
                                            "katmai", "coppermine", "northwood", "banias", "opteron", "barcelona",
                                            "bobcat", "unknown"]

    /// The `OPENBLAS_CORETYPE` to re-launch with, or nil to keep the loaded kernels.
    /// - Parameters:
    ///   - currentCore: `coreName` of the loaded library.
    ///   - cpuFlags: the CPU's feature flags (`/proc/cpuinfo` "flags", lower case); evaluated only when the loaded
    ///     kernel set is one the rule could replace, so a recognised CPU (every start of every cluster task) never
    ///     reads `/proc/cpuinfo`.
    ///   - environment: the process environment (`OPENBLAS_CORETYPE`, `ISAC_BLAS_CORETYPE`).
    public static func preferredCoreType(currentCore: String, cpuFlags: @autoclosure () -> Set<String>,
                                         environment: [String: String]) -> String? {
        if environment["OPENBLAS_CORETYPE"] != nil { return nil }
        if let asked = environment["ISAC_BLAS_CORETYPE"], !asked.isEmpty {
            if asked.lowercased() == "keep" || asked.lowercased() == currentCore.lowercased() { return nil }
            return asked
        }
        let core = currentCore.lowercased()
        let generic = genericCores.contains(core)
        guard generic || core == "cooperlake" else { return nil }
        let flags = cpuFlags()
        let avx512: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        if avx512.isSubset(of: flags) { return "SkylakeX" }
        if generic, ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// The CPU feature flags of the first processor in `/proc/cpuinfo` (empty where that file does not exist).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let text = cpuinfo,
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map { $0.lowercased() })
    }

    /// Re-executes this program (`/proc/self/exe`, same arguments) with the preferred `OPENBLAS_CORETYPE` when
    /// `preferredCoreType` names one; returns normally (nothing changed) when it does not or when exec fails.
    /// Call first thing in `main`, before any output. Sets `ISAC_BLAS_RELAUNCHED=1` so it never loops.
    public static func relaunchWithPreferredKernelsIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard env["ISAC_BLAS_RELAUNCHED"] == nil,
              let core = preferredCoreType(currentCore: coreName, cpuFlags: cpuFlags(), environment: env)
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("ISAC_BLAS_RELAUNCHED", "1", 1)
        _ = execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE"); unsetenv("ISAC_BLAS_RELAUNCHED")   // exec failed: keep the loaded kernels
    }
}
