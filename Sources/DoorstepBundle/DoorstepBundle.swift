@_exported public import DoorstepCore
