// Office answers that can be large (a campaign report with its lists whole, a roster comparison
// of a city) write themselves: Foundation's `JSONEncoder` builds the whole document as a tree of
// boxed values first, tens of megabytes for a 2 MB answer. The bytes are the same (tested against
// `JSONEncoder` on seeded reports, `ReportJSONTests`); keys are written in sorted order by hand.

extension JSONTextWriter {
    /// `"key":` for a name known only at run time (after a comma unless `first`).
    mutating func key(named name: String, first: Bool = false) {
        if !first { comma() }
        string(name)
        colon()
    }

    /// `true` or `false`.
    mutating func bool(_ flag: Bool) { value(.bool(flag)) }

    /// A member whose value is left out when it is `nil`, as `Codable`'s synthesized encoding does.
    mutating func optionalString(_ name: StaticString, _ text: String?) {
        guard let text else { return }
        key(name)
        string(text)
    }
}

extension LocalizedName: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("en", first: true)
        writer.string(en)
        writer.key("zh")
        writer.string(zh)
        writer.endObject()
    }
}

extension CampaignReport: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("campaign", first: true)
        campaign.write(to: &writer)
        writer.key("districts")
        writer.array(districts) { $1.write(to: &$0) }
        if let stage {
            writer.key("stage")
            stage.write(to: &writer)
        }
        writer.key("today")
        writer.string(today.description)
        writer.key("total")
        total.write(to: &writer)
        writer.endObject()
    }
}

extension CampaignReport.CampaignSummary: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        var first = true
        if let end {
            writer.key("end", first: true)
            writer.string(end.description)
            first = false
        }
        writer.key("id", first: first)
        writer.string(id)
        writer.key("name")
        name.write(to: &writer)
        writer.optionalString("start", start?.description)
        writer.endObject()
    }
}

extension CampaignReport.StageToday: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("daysLeft", first: true)
        writer.int(Int64(daysLeft))
        writer.key("end")
        writer.string(end.description)
        writer.key("name")
        name.write(to: &writer)
        writer.key("stage")
        writer.string(stage.rawValue)
        writer.key("start")
        writer.string(start.description)
        writer.endObject()
    }
}

extension CampaignReport.Ratio: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("denominator", first: true)
        writer.int(Int64(denominator))
        writer.key("numerator")
        writer.int(Int64(numerator))
        if let perMille {
            writer.key("perMille")
            writer.int(Int64(perMille))
        }
        writer.endObject()
    }
}

extension CampaignReport.StatusCounts: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("candidate", first: true)
        writer.int(Int64(candidate))
        writer.key("closed")
        writer.int(Int64(closed))
        writer.key("filed")
        writer.int(Int64(filed))
        writer.key("outOfHardship")
        writer.int(Int64(outOfHardship))
        writer.key("safetyNet")
        writer.int(Int64(safetyNet))
        writer.endObject()
    }
}

extension CampaignReport.FilesByStatus: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("atStart", first: true)
        atStart.write(to: &writer)
        writer.key("createdSinceStart")
        writer.int(Int64(createdSinceStart))
        writer.key("now")
        now.write(to: &writer)
        writer.endObject()
    }
}

extension CampaignReport.HouseholdRef: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        var first = true
        if let headName {
            writer.key("headName", first: true)
            writer.string(headName)
            first = false
        }
        writer.key("household", first: first)
        writer.string(household.description)
        writer.key("nationalId")
        writer.string(nationalId)
        writer.optionalString("status", status?.rawValue)
        writer.endObject()
    }
}

extension CampaignReport.VisitCoverage: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("missed", first: true)
        writer.array(missed) { $1.write(to: &$0) }
        writer.key("rate")
        rate.write(to: &writer)
        writer.endObject()
    }
}

extension CampaignReport.AssistanceCounts: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("cancelled", first: true)
        writer.int(Int64(cancelled))
        writer.key("done")
        writer.int(Int64(done))
        writer.key("open")
        writer.int(Int64(open))
        writer.key("overdue")
        writer.int(Int64(overdue))
        writer.endObject()
    }
}

extension CampaignReport.Weekly: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("outOfHardship", first: true)
        writer.int(Int64(outOfHardship))
        writer.key("safetyNet")
        writer.int(Int64(safetyNet))
        writer.key("visits")
        writer.int(Int64(visits))
        writer.key("week")
        writer.string(week.description)
        writer.endObject()
    }
}

extension ReviewCounts: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("conflicts", first: true)
        writer.int(Int64(conflicts))
        writer.key("duplicates")
        writer.int(Int64(duplicates))
        writer.key("rejections")
        writer.int(Int64(rejections))
        writer.endObject()
    }
}

extension ReportDevice: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("clockFlagged", first: true)
        writer.bool(clockFlagged)
        writer.optionalString("district", district)
        writer.key("id")
        writer.string(id.description)
        writer.optionalString("lastSyncAt", lastSyncAt)
        writer.key("name")
        writer.string(name)
        writer.optionalString("revokedAt", revokedAt)
        writer.endObject()
    }
}

extension CampaignReport.Section: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("assistance", first: true)
        assistance.write(to: &writer)
        writer.key("belowMinimumLiving")
        writer.int(Int64(belowMinimumLiving))
        writer.key("causes")
        writer.beginObject()
        for (position, cause) in causes.keys.sorted(by: JSONTextWriter.keyOrder).enumerated() {
            writer.key(named: cause, first: position == 0)
            writer.int(Int64(causes[cause] ?? 0))
        }
        writer.endObject()
        writer.key("clockFlaggedDevices")
        writer.int(Int64(clockFlaggedDevices))
        writer.key("devices")
        writer.array(devices) { $1.write(to: &$0) }
        writer.optionalString("district", district)
        writer.key("exitRate")
        exitRate.write(to: &writer)
        writer.key("filesByStatus")
        filesByStatus.write(to: &writer)
        writer.key("households")
        writer.int(Int64(households))
        if let minimumLivingStandardFen {
            writer.key("minimumLivingStandardFen")
            writer.int(minimumLivingStandardFen)
        }
        writer.key("name")
        name.write(to: &writer)
        writer.key("resolvedRate")
        resolvedRate.write(to: &writer)
        writer.key("review")
        review.write(to: &writer)
        writer.key("twice")
        writer.int(Int64(twice))
        writer.key("visitCoverage")
        visitCoverage.write(to: &writer)
        if let weeks {
            writer.key("weeks")
            writer.array(weeks) { $1.write(to: &$0) }
        }
        writer.key("wrong")
        writer.int(Int64(wrong))
        writer.key("wrongHouseholds")
        writer.array(wrongHouseholds) { $1.write(to: &$0) }
        writer.endObject()
    }
}

extension RosterReport: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("disagreements", first: true)
        writer.array(disagreements) { $1.write(to: &$0) }
        writer.key("inRosterNotOnFile")
        writer.array(inRosterNotOnFile) { $1.write(to: &$0) }
        writer.key("invalidRows")
        writer.array(invalidRows) { $1.write(to: &$0) }
        writer.key("onFileNotInRoster")
        writer.array(onFileNotInRoster) { $1.write(to: &$0) }
        writer.key("rosterRows")
        writer.int(Int64(rosterRows))
        writer.key("rowsOutsideScope")
        writer.int(Int64(rowsOutsideScope))
        writer.endObject()
    }
}

extension RosterPerson: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        var first = true
        if let allowanceFen {
            writer.key("allowanceFen", first: true)
            writer.int(allowanceFen)
            first = false
        }
        if let district {
            writer.key("district", first: first)
            writer.string(district)
            first = false
        }
        writer.key("line", first: first)
        writer.int(Int64(line))
        writer.key("name")
        writer.string(name)
        writer.key("nationalIdMasked")
        writer.string(nationalIdMasked)
        writer.endObject()
    }
}

extension RosterMissingHousehold: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("district", first: true)
        writer.string(district)
        writer.optionalString("headName", headName)
        writer.key("household")
        writer.string(household.description)
        writer.key("nationalIdMasked")
        writer.string(nationalIdMasked)
        writer.optionalString("status", status?.rawValue)
        writer.endObject()
    }
}

extension RosterDisagreement: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("field", first: true)
        writer.string(field)
        writer.key("household")
        writer.string(household.description)
        writer.key("inRoster")
        writer.value(inRoster)
        writer.key("line")
        writer.int(Int64(line))
        writer.key("nationalIdMasked")
        writer.string(nationalIdMasked)
        writer.key("onFile")
        writer.value(onFile)
        writer.endObject()
    }
}

extension RosterInvalidRow: JSONTextEncodable {
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("line", first: true)
        writer.int(Int64(line))
        writer.key("message")
        writer.string(message)
        writer.endObject()
    }
}
