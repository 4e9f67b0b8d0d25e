import DoorstepCore
import Mustache

/// The geometry of a bar chart (each label above its bar); the template draws it as inline SVG.
struct BarChart: Sendable {
    struct Bar: Sendable {
        /// The wire name of what the bar counts (`filed`, `illness`).
        var key: String
        var label: String
        var value: Int
        var labelY: Int
        var barY: Int
        var barWidth: Int
        var valueX: Int
        var valueY: Int
    }

    var id: String
    var title: String
    var width = 480
    var height: Int
    var barHeight = 16
    var bars: [Bar]

    /// Bars for labelled counts, scaled to the largest.
    init(id: String, title: String, items: [(key: String, label: String, value: Int)]) {
        self.id = id
        self.title = title
        let rowHeight = 46, maxBar = width - 56
        let largest = max(items.map(\.value).max() ?? 0, 1)
        bars = items.enumerated().map { index, item in
            let top = index * rowHeight
            let length = item.value == 0 ? 0 : max(3, item.value * maxBar / largest)
            return Bar(
                key: item.key, label: item.label, value: item.value, labelY: top + 16, barY: top + 22, barWidth: length,
                valueX: length + 8, valueY: top + 36)
        }
        height = items.count * rowHeight
    }
}

/// A progress bar for a rate (exit rate, visit coverage), drawn as inline SVG.
struct ProgressBar: Sendable {
    var id: String
    var label: String
    var width = 400
    /// The filled length, out of `width`.
    var filled: Int
    /// `62.5%`, or `—` when nothing is counted.
    var percent: String
    var numerator: Int
    var denominator: Int

    init(id: String, label: String, ratio: CampaignReport.Ratio) {
        self.id = id
        self.label = label
        filled = (ratio.perMille ?? 0) * width / 1000
        percent = DashboardLabels.percent(ratio)
        numerator = ratio.numerator
        denominator = ratio.denominator
    }
}

/// The campaign's course week by week, drawn as inline SVG without a script: home visits per
/// week above, households out of hardship and into the safety net per week below, over the
/// campaign's stage windows, with today and the deadline marked. Each bar names its figures
/// (an SVG `<title>`, shown on hover); the CSV export has them as a table.
struct WeeklyChart: Sendable {
    struct Band: Sendable {
        var x: Int
        var width: Int
        var labelX: Int
        var label: String
        var fill: String
    }

    struct Column: Sendable {
        var week: String
        var x: Int
        var width: Int
        var visitsY: Int
        var visitsHeight: Int
        var exitY: Int
        var exitHeight: Int
        var safetyY: Int
        var safetyHeight: Int
        /// The week and its figures, for the bar's tooltip.
        var title: String
        /// Whether the week's date is written under the axis (about every fourth week).
        var labelled: Bool
    }

    /// A vertical line across both panels (today, the deadline).
    struct Marker: Sendable {
        var x: Int
        var label: String
        var labelX: Int
    }

    var id: String
    var title: String
    var visitsLabel: String
    var exitsLabel: String
    var outOfHardshipLabel: String
    var safetyNetLabel: String
    var width = 720
    var height = 270
    var bands: [Band] = []
    var columns: [Column] = []
    var today: Marker?
    var deadline: Marker?
    var maxVisits: Int
    var maxExits: Int
    var hasWeeks: Bool

    /// The top panel (visits) and the bottom one (exits), in the SVG's units.
    static let left = 44, right = 8, visitsTop = 28, visitsBottom = 128, exitsTop = 150, exitsBottom = 230

    init(
        id: String, title: String, weeks: [CampaignReport.Weekly], stages: [CampaignStage], today: LocalDate, end: LocalDate?,
        labels: (visits: String, exits: String, outOfHardship: String, safetyNet: String, today: String, deadline: String),
        language: Language
    ) {
        self.id = id
        self.title = title
        visitsLabel = labels.visits
        exitsLabel = labels.exits
        outOfHardshipLabel = labels.outOfHardship
        safetyNetLabel = labels.safetyNet
        hasWeeks = !weeks.isEmpty
        maxVisits = max(1, weeks.map(\.visits).max() ?? 0)
        maxExits = max(1, weeks.map { $0.outOfHardship + $0.safetyNet }.max() ?? 0)
        guard let first = weeks.first?.week else { return }
        let plot = width - Self.left - Self.right
        let step = max(1, plot / max(1, weeks.count))
        // Days to x: a week is `step` wide, a day a seventh of it.
        func x(_ day: LocalDate) -> Int { Self.left + first.days(until: day) * step / 7 }
        let fills = ["#e8f0fb", "#eef7ee", "#fdf3e6"]
        bands = stages.enumerated().map { index, stage in
            let start = max(Self.left, x(stage.start)), stop = min(width - Self.right, x(stage.end.adding(days: 1)))
            return Band(x: start, width: max(0, stop - start), labelX: start + 3, label: stage.name.text(language), fill: fills[index % fills.count])
        }
        let visitsSpan = Self.visitsBottom - Self.visitsTop, exitsSpan = Self.exitsBottom - Self.exitsTop
        let maxVisits = self.maxVisits, maxExits = self.maxExits
        columns = weeks.enumerated().map { index, week in
            let left = Self.left + index * step
            let visits = week.visits * visitsSpan / maxVisits
            let out = week.outOfHardship * exitsSpan / maxExits, safety = week.safetyNet * exitsSpan / maxExits
            let figures = "\(labels.visits) \(week.visits) · \(labels.outOfHardship) \(week.outOfHardship) · \(labels.safetyNet) \(week.safetyNet)"
            return Column(
                week: week.week.description, x: left + 1, width: max(1, step - 2), visitsY: Self.visitsBottom - visits, visitsHeight: visits,
                exitY: Self.exitsBottom - out, exitHeight: out, safetyY: Self.exitsBottom - out - safety, safetyHeight: safety,
                title: "\(week.week.description): \(figures)", labelled: index % 4 == 0)
        }
        let lastX = Self.left + weeks.count * step
        if today >= first, x(today) <= lastX { self.today = Marker(x: x(today), label: labels.today, labelX: x(today) + 3) }
        if let end {
            self.deadline = Marker(x: min(lastX, x(end.adding(days: 1))), label: labels.deadline, labelX: max(Self.left, x(end.adding(days: 1)) - 30))
        }
    }
}

// Templates read the charts by name: a switch, not a Mirror (reflection was most of a page's time).
extension BarChart: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "title": title
        case "width": width
        case "height": height
        case "barHeight": barHeight
        case "bars": bars
        default: nil
        }
    }
}

extension BarChart.Bar: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "key": key
        case "label": label
        case "value": value
        case "labelY": labelY
        case "barY": barY
        case "barWidth": barWidth
        case "valueX": valueX
        case "valueY": valueY
        default: nil
        }
    }
}

extension ProgressBar: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "label": label
        case "width": width
        case "filled": filled
        case "percent": percent
        case "numerator": numerator
        case "denominator": denominator
        default: nil
        }
    }
}

extension WeeklyChart: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "title": title
        case "visitsLabel": visitsLabel
        case "exitsLabel": exitsLabel
        case "outOfHardshipLabel": outOfHardshipLabel
        case "safetyNetLabel": safetyNetLabel
        case "width": width
        case "height": height
        case "bands": bands
        case "columns": columns
        case "today": today
        case "deadline": deadline
        case "maxVisits": maxVisits
        case "maxExits": maxExits
        case "hasWeeks": hasWeeks
        default: nil
        }
    }
}

extension WeeklyChart.Band: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": x
        case "width": width
        case "labelX": labelX
        case "label": label
        case "fill": fill
        default: nil
        }
    }
}

extension WeeklyChart.Column: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "week": week
        case "x": x
        case "width": width
        case "visitsY": visitsY
        case "visitsHeight": visitsHeight
        case "exitY": exitY
        case "exitHeight": exitHeight
        case "safetyY": safetyY
        case "safetyHeight": safetyHeight
        case "title": title
        case "labelled": labelled
        default: nil
        }
    }
}

extension WeeklyChart.Marker: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "x": x
        case "label": label
        case "labelX": labelX
        default: nil
        }
    }
}
