/// The version of this Doorstep build.
public enum DoorstepVersion {
    /// The release version, printed by `--version`.
    public static let string = "0.4.0"
}
