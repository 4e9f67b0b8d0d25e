import ArgumentParser
import DoorstepClient
import DoorstepCore

extension Admin.Devices {
    struct List: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the enrolled devices of the district (the city sees all, or names one).",
            discussion: """
                With --json: an array, keys id, name, role, district, signingKey, enrolledAt, revokedAt, \
                highestSeq, clockSkew, lastPushAt, lastPullAt.

                Example:
                  doorstep admin devices list --district 150602
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only this district (the city's token sees every district).")
        var district: String?

        func run() async throws {
            let session = try await global.office()
            let devices = try await session.client.devices(district: try global.district(district))
            let console = global.console
            let format = global.format
            try console.output(devices) {
                guard !devices.isEmpty else { return console.t("没有已登记的设备。", "No enrolled devices.") }
                var table = Table(titles: [
                    console.t("编号", "id"), console.t("名称", "name"), console.t("角色", "role"), console.t("旗区", "district"),
                    console.t("登记时间", "enrolled"), console.t("上次推送", "last push"), console.t("上次拉取", "last pull"),
                    console.t("状态", "state"),
                ])
                for device in devices {
                    var state = device.isRevoked ? console.t("已撤销 ", "revoked ") + format.time(device.revokedAt) : console.t("有效", "active")
                    if device.clockSkew { state += console.t("；时钟过快", "; clock ahead") }
                    table.add([
                        Format.short(device.id), device.name, device.role.label(console.language), format.district(device.district),
                        format.time(device.enrolledAt), format.time(device.lastPushAt), format.time(device.lastPullAt), state,
                    ])
                }
                return table.render()
            }
        }
    }

    struct Revoke: DoorstepCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a device at once (a lost or stolen laptop).",
            discussion: """
                The device's token stops working immediately. At its next sync the device saves its \
                unsynced work to an encrypted bundle file, then wipes the district's data. \
                With --json: the device record (keys as in `admin devices list`).

                Example:
                  doorstep admin devices revoke 3f2a9c1e
                """
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The device's id (or its first characters, from `admin devices list`).")
        var device: String

        func run() async throws {
            let session = try await global.office()
            let console = global.console
            let id: DeviceID
            if device.count >= 32, let whole = try? DeviceID(device) {
                id = whole
            } else {
                let all = try await session.client.devices()
                id = try Resolve.unique(device, among: all.map(\.id), id: \.rawValue, what: console.t("设备", "device"), console: console)
            }
            let record = try await session.client.revoke(device: id)
            try console.output(record) {
                console.t(
                    "已撤销设备「\(record.name)」（\(record.id)）。它下次同步时会把未同步的数据导出为加密文件，然后清除本机档案。",
                    "Revoked device \"\(record.name)\" (\(record.id)). At its next sync it exports unsynced work to an encrypted file, then wipes its copy.")
            }
        }
    }
}
