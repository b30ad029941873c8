import Foundation
import Linalg
import Numerics

/// Scenario helpers shared by the CLI, figures and tests.
public enum WidebandExperiments {
    /// P targets with range uniform in [rMin, rMax] m and angle uniform in the field of view
    /// [60°, 120°] (uniform in θ).
    public static func randomTargets(count: Int, rMin: Double, rMax: Double, rng: inout RandomSource) -> [PolarTarget] {
        (0..<count).map { _ in
            PolarTarget(rangeMeters: rng.uniform(rMin, rMax), angleRad: rng.uniform(60, 120) * Double.pi / 180)
        }
    }
}
