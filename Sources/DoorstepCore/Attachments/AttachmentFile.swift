/// The type of an attachment's bytes, as its first bytes show it (protocol 1.4, §17.2).
public enum AttachmentMediaType: String, DomainTerm {
    public static let textKey = "mediaType"
    /// A JPEG photo: `FF D8 FF`.
    case jpeg = "image/jpeg"
    /// A PNG image: `89 50 4E 47 0D 0A 1A 0A`.
    case png = "image/png"
    /// A HEIC photo (a phone's camera): an ISO base media file of brand `heic`, `heix`, `heim`,
    /// `heis`, `mif1` or `msf1`.
    case heic = "image/heic"
    /// A PDF document (a scan): `%PDF-`.
    case pdf = "application/pdf"

    /// The file name extension people expect for the type.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .heic: "heic"
        case .pdf: "pdf"
        }
    }
}

/// The rules of an attachment's bytes that both ends apply (protocol 1.4, §17).
public enum AttachmentFile {
    /// The largest file: 20 MiB (§15).
    public static let maxBytes: Int64 = 20 * 1024 * 1024
    /// The bytes the first upload of a file must carry so that its type can be told (or the
    /// whole file, if shorter).
    public static let sniffBytes = 12
    /// The fields of an attachment fixed at creation: what names and describes the bytes.
    public static let fixedFields: Set<String> = ["of", "sha256", "mediaType", "size"]

    /// The HEIC brands accepted (ISO/IEC 23008-12).
    static let heicBrands: Set<String> = ["heic", "heix", "heim", "heis", "mif1", "msf1"]

    /// The type of a file by its first bytes (at least ``sniffBytes`` of them, or the whole
    /// file), never by its name; `nil` for bytes of no accepted type.
    public static func mediaType<Bytes: Collection<UInt8>>(ofFirstBytes bytes: Bytes) -> AttachmentMediaType? {
        let head = Array(bytes.prefix(sniffBytes))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if head.count >= 12, head[4..<8].elementsEqual("ftyp".utf8),
            let brand = String(validating: head[8..<12], as: UTF8.self), heicBrands.contains(brand)
        {
            return .heic
        }
        return nil
    }

    /// A file's size as people read it: `812 字节` / `812 bytes`, `293 KB`, `1.2 MB`.
    public static func sizeText(_ bytes: Int64, _ language: Language) -> String {
        if bytes < 1024 { return Texts.text("value.bytes", language, ["count": String(bytes)]) }
        if bytes < 1024 * 1024 { return "\((bytes + 512) / 1024) KB" }
        let tenths = (bytes * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MB"
    }

    /// Whether a text is a SHA-256 as the protocol writes it: 64 lower-case hexadecimal digits.
    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
