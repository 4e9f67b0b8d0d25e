/// What an answer holds for a client that reads an older revision (protocol 1.4, §13.4): a
/// request without `Doorstep-Revision: 1.4` (or later) is sent no attachment, nor anything
/// about one, so that a client that does not know the kind is served unchanged.
public enum RevisionView {
    /// Whether an entity of `kind` (its wire name) is sent to a request that reads
    /// attachments or not: the one rule, for storage that writes pages from stored texts.
    public static func sends(kind: String, readsAttachments: Bool) -> Bool {
        readsAttachments || kind != EntityKind.attachment.rawValue
    }

    /// The aggregate without its attachments.
    public static func household(_ aggregate: HouseholdAggregate, readsAttachments: Bool) -> HouseholdAggregate {
        guard !readsAttachments else { return aggregate }
        var seen = aggregate
        seen.entities.removeAll { $0.kind == .attachment }
        return seen
    }

    /// The history without the rows of attachments.
    public static func history(_ entries: [AuditEntry], readsAttachments: Bool) -> [AuditEntry] {
        readsAttachments ? entries : entries.filter { $0.kind != .attachment }
    }

    /// The review queue without conflicts on attachments and rejections of their mutations.
    public static func review(_ queue: ReviewQueue, readsAttachments: Bool) -> ReviewQueue {
        guard !readsAttachments else { return queue }
        var seen = queue
        seen.conflicts.removeAll { $0.record.kind == .attachment }
        seen.rejections.removeAll { $0.kind == .attachment || $0.mutation?.kind == .attachment }
        return seen
    }
}
