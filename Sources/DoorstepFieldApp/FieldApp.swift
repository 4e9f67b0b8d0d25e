public import DoorstepClient
import DoorstepCore
public import DoorstepWeb
public import Foundation
import HTTPTypes
public import Hummingbird
public import Logging
import ServiceLifecycle
import Synchronization

/// How the field app runs: the visitor's local database, the port, the language.
public struct FieldAppConfiguration: Sendable {
    /// The field client's configuration (the local database, the city, the transport).
    public var client: ClientConfiguration
    /// The port on 127.0.0.1; 0 picks a free one.
    public var port: Int
    /// The secret a browser must show once (in the address printed at start) to be let in;
    /// made at random at each start.
    public var secret: String
    /// How often the app checks whether the server answers (seconds); 0 never checks.
    public var reachabilityInterval: Double

    public init(client: ClientConfiguration, port: Int = 0, secret: String = WebSecurity.newSecret(), reachabilityInterval: Double = 60) {
        self.client = client
        self.port = port
        self.secret = secret
        self.reachabilityInterval = reachabilityInterval
    }
}

/// The visitors' field app: a local web application on ``FieldClient``, served on the loopback
/// address to the browser already on the laptop. Every write goes through the library
/// (validation, outbox, view), so it works offline exactly as the library does.
///
/// Only this laptop's browser gets in, and only with the secret of the address printed at start:
/// requests whose `Host` is not the app's own address are refused (DNS rebinding), the secret
/// becomes an `HttpOnly`, `SameSite=Strict` cookie, every form carries a token derived from it,
/// and the pages load nothing from elsewhere and run no script (`Content-Security-Policy`).
public enum FieldApp {
    /// Builds the app. `onListening` is called once it listens, with the address to open (it holds
    /// the secret: show it to the visitor only) and a one-time address for launching a browser
    /// (safe on a command line that other users may see: it works once).
    public static func build(
        configuration: FieldAppConfiguration, logger: Logger = Logger(label: "doorstep-app"),
        onListening: @escaping @Sendable (_ address: URL, _ launch: URL) -> Void = { _, _ in }
    ) throws -> some ApplicationProtocol {
        let client = try FieldClient(configuration: configuration.client)
        let state = FieldAppState(client: client, configuration: configuration)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: WebTimingMiddleware(metric: "app"))
        router.add(middleware: FieldAppGuard(state: state))
        FieldAppPages(state: state).addRoutes(to: router)
        var app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: configuration.port), serverName: "Doorstep field app"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                state.port.withLock { $0 = port }
                let base = "http://127.0.0.1:\(port)/"
                guard let address = URL(string: base + "?key=" + configuration.secret),
                    let launch = URL(string: base + "?key=" + state.launchKey)
                else { return }
                onListening(address, launch)
            },
            logger: logger
        )
        if configuration.reachabilityInterval > 0 { app.addServices(ReachabilityService(state: state)) }
        return app
    }
}

extension FieldApp {
    /// Builds the app and runs it until the process is asked to stop (Ctrl+C, `SIGTERM`): what
    /// `doorstep app` does.
    public static func run(
        configuration: FieldAppConfiguration, onListening: @escaping @Sendable (_ address: URL, _ launch: URL) -> Void
    ) async throws {
        try await build(configuration: configuration, onListening: onListening).runService()
    }
}

/// What the app's handlers share: the client, the secret, the port, the sync, the link.
final class FieldAppState: Sendable {
    let client: FieldClient
    let configuration: FieldAppConfiguration
    let port = Mutex<Int>(0)
    let sync = SyncRunner()
    /// The visitor's name as typed at the last home verification (the next form starts with it).
    let visitorName = Mutex<String?>(nil)
    /// Whether the server answered the last time it was asked, and when that was.
    let reachability = Mutex<(online: Bool?, at: Date?)>((nil, nil))
    /// A key that lets a browser in once, within ``launchLifetime`` of the start (the launched
    /// browser's), then never again.
    let launchKey = WebSecurity.newSecret()
    private let launchUsed = Mutex(false)
    private let started = Date()
    static let launchLifetime: TimeInterval = 120
    /// The sessions of the browsers let in (random ids, in memory: they end with the process).
    private let sessions = Mutex<Set<String>>([])
    /// Forms that create something carry a one-time nonce, so that a double click saves once.
    private let nonces = Mutex<Set<String>>([])

    init(client: FieldClient, configuration: FieldAppConfiguration) {
        self.client = client
        self.configuration = configuration
    }

    /// The session cookie's name: with the port, since a browser sends cookies of 127.0.0.1 to every port.
    var cookieName: String { "doorstep_field_app_\(port.withLock { $0 })" }

    /// A new browser session.
    func newSession() -> String {
        let id = WebSecurity.newSecret()
        sessions.withLock { _ = $0.insert(id) }
        return id
    }

    /// Whether a cookie names a session of this run.
    func isSession(_ id: String?) -> Bool {
        guard let id, !id.isEmpty else { return false }
        return sessions.withLock { $0.contains(id) }
    }

    /// The token every form of a session carries (derived from its id; the id itself is never in a page).
    func formToken(for session: String) -> String { WebSecurity.formToken(for: session, application: "field-app", purpose: "form") }

    /// A new one-time nonce for a form that creates something.
    func newNonce() -> String {
        let nonce = WebSecurity.newSecret()
        nonces.withLock { set in
            if set.count > 10_000 { set.removeAll() }
            set.insert(nonce)
        }
        return nonce
    }

    /// Takes a nonce: whether it was issued and not taken before.
    func claim(nonce: String?) -> Bool {
        guard let nonce else { return false }
        return nonces.withLock { $0.remove(nonce) != nil }
    }

    /// Gives back a nonce whose save failed, so that the same form may be sent again.
    func release(nonce: String?) {
        guard let nonce else { return }
        _ = nonces.withLock { $0.insert(nonce) }
    }

    /// Whether a key lets a browser in: the secret, or the launch key once, soon after the start.
    func admits(key: String) -> Bool {
        if WebSecurity.constantTimeEqual(key, configuration.secret) { return true }
        guard WebSecurity.constantTimeEqual(key, launchKey), Date().timeIntervalSince(started) < Self.launchLifetime else { return false }
        return launchUsed.withLock { used in
            defer { used = true }
            return !used
        }
    }

    /// Whether a request's `Host` is this app's own address (`127.0.0.1:PORT` or `localhost:PORT`).
    func isOwnHost(_ host: String?) -> Bool {
        guard let host = host?.lowercased() else { return false }
        let port = port.withLock { $0 }
        return host == "127.0.0.1:\(port)" || host == "localhost:\(port)"
    }
}

/// Refuses requests from anywhere but this laptop's browser holding the secret (see ``FieldApp``).
struct FieldAppGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let state: FieldAppState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let language = WebLanguage.of(request, cookie: FieldAppPages.languageCookie, acceptLanguage: false).language
        guard state.isOwnHost(request.head.authority) else {
            // Another name for this address (DNS rebinding): nothing is read or changed.
            return FieldAppPages.plain(Texts.text("app.wrongHost", language), status: .misdirectedRequest)
        }
        let signedIn = state.isSession(request.cookies[state.cookieName]?.value)
        if let key = request.uri.queryParameters.get("key") {
            let admitted = state.admits(key: String(key))
            // A used launch address opened again from the history, by a browser already in: just in.
            guard admitted || signedIn else { return FieldAppPages.plain(Texts.text("app.needKey", language), status: .forbidden) }
            var items: [(String, String?)] = []
            for (name, value) in request.uri.queryParameters where name != "key" { items.append((String(name), String(value))) }
            var response = WebSecurity.redirect(WebLinks.href(request.uri.path, items), policy: FieldAppPages.policy)
            if admitted && !signedIn {
                response.setCookie(WebSecurity.cookie(state.cookieName, state.newSession(), maxAge: 12 * 3600, request: request))
            }
            return response
        }
        guard signedIn else { return FieldAppPages.plain(Texts.text("app.needKey", language), status: .forbidden) }
        return try await next(request, context)
    }
}

/// Runs one sync at a time in the background, so that a page can show its progress and cancel it.
final class SyncRunner: Sendable {
    enum Outcome: Sendable {
        case done(SyncSummary)
        case failed(DoorstepError)
        case cancelled
    }

    struct Snapshot: Sendable {
        var running: Bool
        var progress: SyncProgress?
        var started: Date?
        var outcome: Outcome?
        var finished: Date?
    }

    private struct State {
        var task: Task<Void, Never>?
        var snapshot = Snapshot(running: false)
    }

    private let state = Mutex(State())

    var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Starts a sync unless one runs; whether it started.
    @discardableResult
    func start(_ client: FieldClient, onEnd: @escaping @Sendable (Outcome) -> Void = { _ in }) -> Bool {
        state.withLock { state in
            guard !state.snapshot.running else { return false }
            state.snapshot = Snapshot(running: true, progress: nil, started: Date(), outcome: nil, finished: nil)
            state.task = Task {
                let outcome: Outcome
                do {
                    let summary = try await client.sync { progress in self.state.withLock { $0.snapshot.progress = progress } }
                    outcome = .done(summary)
                } catch is CancellationError {
                    outcome = .cancelled
                } catch let error as DoorstepError {
                    outcome = Task.isCancelled ? .cancelled : .failed(error)
                } catch {
                    outcome =
                        Task.isCancelled
                        ? .cancelled
                        : .failed(DoorstepError(.serverUnreachable, "the sync stopped: \(error)", zh: "同步中断了：已完成的部分都已保存，稍后再同步即可"))
                }
                self.state.withLock { state in
                    state.snapshot.running = false
                    state.snapshot.outcome = outcome
                    state.snapshot.finished = Date()
                    state.task = nil
                }
                onEnd(outcome)
            }
            return true
        }
    }

    /// Forgets the last outcome unless a sync runs (the server's address changed: its failure no
    /// longer says where the laptop stands).
    func forgetOutcome() {
        state.withLock { state in
            guard !state.snapshot.running else { return }
            state.snapshot.outcome = nil
        }
    }

    /// Cancels the running sync (what it committed stays: the next sync goes on from there).
    func cancel() {
        state.withLock { $0.task?.cancel() }
    }
}

/// Asks the server every so often whether it answers, for the status line's online/offline.
struct ReachabilityService: Service {
    let state: FieldAppState

    func run() async throws {
        // Ends when the app is asked to stop (Ctrl+C), or the app would wait for it.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await FieldAppPages(state: state).checkReachability()
                do {
                    try await Task.sleep(for: .seconds(state.configuration.reachabilityInterval))
                } catch {
                    return
                }
            }
        }
    }
}
