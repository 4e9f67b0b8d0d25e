// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Doorstep",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DoorstepCore", targets: ["DoorstepCore"]),
        .library(name: "DoorstepClient", targets: ["DoorstepClient"]),
        .library(name: "DoorstepBundle", targets: ["DoorstepBundle"]),
        .library(name: "DoorstepStorage", targets: ["DoorstepStorage"]),
        .library(name: "DoorstepImport", targets: ["DoorstepImport"]),
        .library(name: "DoorstepServer", targets: ["DoorstepServer"]),
        .library(name: "DoorstepFieldApp", targets: ["DoorstepFieldApp"]),
        .executable(name: "doorstep", targets: ["doorstep"]),
        .executable(name: "doorstep-server", targets: ["doorstep-server"]),
        .executable(name: "doorstep-bench", targets: ["doorstep-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // The dashboard's file upload (multipart/form-data) is read by Vapor's parser.
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        // The field client's HTTP on Linux (FoundationNetworking ends the process on an answer cut
        // inside its headers; see HTTPClientTransport). Already in the graph through Hummingbird.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
        // gzip of HTTP bodies (protocol 1.5), by Hummingbird's author, over the system's zlib.
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "DoorstepCore",
            // The city data shipped inside the binaries: Samples/data/ordos.json itself
            // (Resources/ordos.json links to it), compiled in so that a copied binary has it; and
            // the one table of texts people read (Resources/texts.json, see Text/Texts.swift).
            resources: [.embedInCode("Resources/ordos.json"), .embedInCode("Resources/texts.json")],
            swiftSettings: swiftSettings
        ),
        // The bundle file format (sign, hash, encrypt; verify, decrypt), shared by client and server
        // so that it is written once. DoorstepCore stays Foundation-only, so the crypto lives here.
        .target(
            name: "DoorstepBundle",
            dependencies: [
                "DoorstepCore",
                "DoorstepCompression",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The system's libzstd (apt: libzstd-dev), for zstd bodies.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // zstd and gzip of HTTP bodies, both ends (protocol 1.5, §18): what compresses, what a request accepts.
        .target(
            name: "DoorstepCompression",
            dependencies: [
                "CZstd",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DoorstepClient",
            dependencies: [
                "DoorstepCore",
                "DoorstepBundle",
                "DoorstepCompression",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client", condition: .when(platforms: [.linux])),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(platforms: [.linux])),
            ],
            swiftSettings: swiftSettings
        ),
        // The server's storage: the backend-neutral rules (Rules/) over the embedded SQLite backend
        // and the PostgreSQL one (Postgres/); a backend is its schema, its queries and its transactions.
        .target(
            name: "DoorstepStorage",
            dependencies: [
                "DoorstepCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Offices' files: existing household files to import, civil-affairs rosters to compare (CSV, JSON).
        .target(
            name: "DoorstepImport",
            dependencies: ["DoorstepCore", "DoorstepStorage"],
            swiftSettings: swiftSettings
        ),
        // What Doorstep's web pages share (the office dashboard, the field app): response headers
        // and the Content-Security-Policy, form tokens, cookies, forms, tables, links.
        .target(
            name: "DoorstepWeb",
            dependencies: [
                "DoorstepCore",
                // A page's values are read by name (MustacheParent), not by reflection: Mirror took
                // 60 % of the overview's time.
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The visitors' field app: a local web application on DoorstepClient, served on the
        // loopback address to the laptop's own browser (`doorstep app`).
        .target(
            name: "DoorstepFieldApp",
            dependencies: [
                "DoorstepCore",
                "DoorstepClient",
                "DoorstepWeb",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server: the HTTP API (sync, office and admin routes, token middleware), the office
        // dashboard, configuration and TLS, over DoorstepStorage and DoorstepImport.
        .target(
            name: "DoorstepServer",
            dependencies: [
                "DoorstepCore",
                "DoorstepCompression",
                "DoorstepWeb",
                "DoorstepBundle",
                "DoorstepStorage",
                "DoorstepImport",
                // A district relay (protocol 1.8) calls the city as a client does.
                "DoorstepClient",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            // The HTTP API's contract, served at GET /openapi.yaml: protocol/openapi.yaml itself
            // (Resources/openapi.yaml links to it), compiled into the binary so a copied binary has it.
            resources: [.embedInCode("Resources/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "doorstep",
            dependencies: [
                "DoorstepClient",
                "DoorstepFieldApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "DoorstepCore",
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "doorstep-server",
            dependencies: [
                "DoorstepServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "DoorstepCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Samples/: the synthetic data generator (doorstep-sample-data) and FieldApp, a small program
        // that uses DoorstepClient the way a desktop application would. Both build with the package.
        .executableTarget(
            name: "doorstep-sample-data",
            dependencies: [
                "DoorstepCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Samples/Generator",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FieldApp",
            dependencies: [
                "DoorstepClient",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Samples/FieldApp",
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // protocol/tools/make-examples: writes protocol/examples/ (golden files, merge vectors) from the
        // merge engine; run by protocol/tools/make-examples.sh (`--check` compares).
        .executableTarget(
            name: "make-examples",
            dependencies: ["DoorstepCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "protocol/tools/make-examples",
            swiftSettings: swiftSettings + [.swiftLanguageMode(.v5)]
        ),
        // The benchmark tool (BENCHMARKS.md): figures against the machine's own SQLite, in one run.
        .executableTarget(
            name: "doorstep-bench",
            dependencies: [
                "DoorstepCore",
                "DoorstepClient",
                "DoorstepServer",
                "DoorstepFieldApp",
                "DoorstepWeb",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "DoorstepStorage",
            ],
            swiftSettings: swiftSettings
        ),
        // The tests' shared helpers, once: a live server, the child-process runner, the executables.
        .target(
            name: "DoorstepTestSupport",
            dependencies: [
                "DoorstepCore",
                "DoorstepClient",
                "DoorstepServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DoorstepCompressionTests",
            dependencies: ["DoorstepCompression", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DoorstepCoreTests",
            dependencies: [
                "DoorstepCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DoorstepBundleTests",
            dependencies: ["DoorstepCompression", "DoorstepCore", "DoorstepBundle", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DoorstepClientTests",
            dependencies: [
                "DoorstepTestSupport",
                "DoorstepCompression",
                "DoorstepClient",
                "DoorstepServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                "DoorstepCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DoorstepFieldAppTests",
            dependencies: [
                "DoorstepTestSupport",
                "DoorstepFieldApp",
                "DoorstepClient",
                "DoorstepCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DoorstepCLITests",
            dependencies: [
                "DoorstepTestSupport", "DoorstepClient", "DoorstepServer", .product(name: "HummingbirdTesting", package: "hummingbird"), "DoorstepCore",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DoorstepServerTests",
            dependencies: [
                "DoorstepTestSupport",
                "DoorstepCompression",
                "DoorstepServer",
                "DoorstepStorage",
                "DoorstepImport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                "DoorstepCore",
                "DoorstepBundle",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The load tool: N enrolled devices doing a day-end burst against a server (docs/GUARANTEES.md).
        .executableTarget(
            name: "doorstep-load",
            dependencies: [
                "DoorstepClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Crashes, broken networks, hostile input, security and TLS (issue 7; docs/GUARANTEES.md).
        .testTarget(
            name: "DoorstepReliabilityTests",
            dependencies: [
                "DoorstepTestSupport",
                "DoorstepClient",
                "DoorstepServer",
                "DoorstepStorage",
                "DoorstepImport",
                "DoorstepBundle",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                "DoorstepCore",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
