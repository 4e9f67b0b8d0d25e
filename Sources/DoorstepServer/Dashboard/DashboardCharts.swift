import DoorstepCore

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
