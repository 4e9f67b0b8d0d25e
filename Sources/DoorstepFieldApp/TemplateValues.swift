import Mustache

// The values the templates read, each by name without reflection: Mustache reads any other value
// through `Mirror`, once per name looked up, which cost more than the page's own query. A new
// property must be named here too (TemplateValuesTests checks every property is).

extension AppChrome: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "lang": lang
        case "title": title
        case "csrf": csrf
        case "enrolled": enrolled
        case "nav": nav
        case "languageLink": languageLink
        case "flash": flash
        case "error": error
        case "refreshSeconds": refreshSeconds
        case "connection": connection
        case "pendingText": pendingText
        case "lastSyncText": lastSyncText
        case "syncRunning": syncRunning
        case "revoked": revoked
        default: nil
        }
    }
}

extension AppChrome.Link: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "href": href
        case "label": label
        case "current": current
        case "lang": lang
        default: nil
        }
    }
}

extension AppChrome.Connection: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "kind": kind
        case "text": text
        default: nil
        }
    }
}

extension FormField: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "label": label
        case "required": required
        case "value": value
        case "inputType": inputType
        case "inputMode": inputMode
        case "maxLength": maxLength
        case "placeholder": placeholder
        case "hint": hint
        case "accept": accept
        case "options": options
        case "isSelect": isSelect
        case "isChoices": isChoices
        case "isTextArea": isTextArea
        case "isInput": isInput
        case "problem": problem
        case "changedBy": changedBy
        case "was": was
        case "base": base
        case "conflicted": conflicted
        default: nil
        }
    }
}

extension FormField.Option: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}
