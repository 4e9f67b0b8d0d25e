public import Foundation

extension FieldApp {
    /// Opens the app in the system's browser: `open` on macOS, `xdg-open` on Linux with a display.
    /// The launch address (with its one-time key) is written to a file only the visitor can read,
    /// a page that forwards to it, and the browser is given that file: the key never appears on a
    /// command line, where other users of the machine could read it. Whether a browser was started.
    public static func openBrowser(_ launch: URL) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        #if os(macOS)
        let command = "/usr/bin/open"
        #else
        guard environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil else { return false }
        guard let command = ["/usr/bin/xdg-open", "/usr/local/bin/xdg-open"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            return false
        }
        #endif
        let escaped = launch.absoluteString.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
        let page = "<!DOCTYPE html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=\(escaped)\"><title>Doorstep</title>\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("doorstep-app-\(UUID().uuidString).html").path
        guard FileManager.default.createFile(atPath: path, contents: Data(page.utf8), attributes: [.posixPermissions: 0o600]) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = [URL(fileURLWithPath: path).absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            return false
        }
        // The browser has read the page by then; the key in it expires soon after anyway.
        Task.detached {
            try? await Task.sleep(for: .seconds(60))
            try? FileManager.default.removeItem(atPath: path)
        }
        return true
    }
}
