import DoorstepCore

/// Sample facts.
enum Sample {
    /// A valid national ID number (GB 11643 check digit) numbered `n`.
    static func nationalID(_ n: Int, region: String = "150602") -> String {
        let body = region + "19850701" + String(100 + n % 900)
        return body + String(NationalID.checkCharacter(for: Array(body)))
    }

    /// The same number with its check digit wrong.
    static func wrongNationalID(_ n: Int) -> String {
        let good = nationalID(n)
        let wrong: Character = good.last == "1" ? "2" : "1"
        return String(good.dropLast()) + String(wrong)
    }

    /// `household new` flags for a complete household.
    static func householdFlags(_ n: Int, name: String = "王某某") -> [String] {
        [
            "--name", name, "--national-id", nationalID(n), "--address", "东胜区 建设街 \(n) 号", "--file-level", "national",
            "--cause", "illness", "--difficulty", "general", "--skill", "none", "--income-yuan", "1200",
        ]
    }
}
