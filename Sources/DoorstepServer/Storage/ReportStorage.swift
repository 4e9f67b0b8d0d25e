/// What office reports need from storage.
public protocol ReportStorage: Sendable {}
