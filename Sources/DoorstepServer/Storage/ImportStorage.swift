/// What importing existing household files and comparing civil-affairs rosters need from storage.
public protocol ImportStorage: Sendable {}
