import ArgumentParser
import DoorstepClient
import DoorstepCore

extension Admin.Devices {
    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.devices.listTheEnrolledDevicesOf"),
            discussion: Help.text("help.devices.withJsonAnArrayKeys")
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: .text("help.devices.onlyThisDistrictTheCity"))
        var district: String?

        func run() async throws {
            let session = try await global.office()
            let list = try await session.client.deviceList(district: try global.district(district))
            let devices = list.devices
            let unsynced = Set(list.notSyncedSinceRestore.map(\.id))
            let console = global.console
            let format = global.format
            try console.output(devices) {
                guard !devices.isEmpty else { return console.t("cli.devices.noEnrolledDevices") }
                var table = Table(titles: [
                    console.t("cli.common.id"), console.t("cli.common.name"), console.t("cli.common.role"), console.t("cli.common.district"),
                    console.t("cli.devices.enrolled"), console.t("cli.devices.lastPush"), console.t("cli.devices.lastPull"),
                    console.t("cli.common.state"),
                ])
                for device in devices {
                    var state = device.isRevoked ? console.t("cli.common.revoked") + format.time(device.revokedAt) : console.t("cli.common.active")
                    if device.clockSkew { state += console.t("cli.devices.clockAhead") }
                    if unsynced.contains(device.id) { state += console.t("cli.devices.notSyncedSinceRestore") }
                    if let lost = device.lost, !lost.isEmpty {
                        state += console.t("cli.devices.lostWork", ["count": "\(lost.reduce(0) { $0 + SeqRange(from: $1.from, through: $1.through).count })"])
                    }
                    table.add([
                        Format.short(device.id), device.name, device.role.label(console.language), format.district(device.district),
                        format.time(device.enrolledAt), format.time(device.lastPushAt), format.time(device.lastPullAt), state,
                    ])
                }
                guard let restoredAt = list.restoredAt else { return table.render() }
                return table.render() + "\n" + console.t("cli.devices.restoredAt", ["at": format.time(restoredAt), "count": "\(unsynced.count)"])
            }
        }
    }

    struct Revoke: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: Help.text("help.devices.revokeADeviceAtOnce"),
            discussion: Help.text("help.devices.theDeviceTokenStopsWorking")
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: .text("help.devices.theDeviceIdOrIts"))
        var device: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let id: DeviceID
            if device.count >= 32, let whole = try? DeviceID(device) {
                id = whole
            } else {
                let all = try await session.client.devices()
                id = try Resolve.unique(device, among: all.map(\.id), id: \.rawValue, what: console.t("cli.common.device"), console: console)
            }
            let record = try await session.client.revoke(device: id)
            try console.output(record) {
                console.t(
                    "cli.devices.revokedDeviceAtItsNext", ["id": "\(record.id)", "name": "\(record.name)"])
            }
        }
    }
}
