import DoorstepCore

/// Every text of the dashboard in Simplified Chinese and English. Keys without a dot are used by
/// the templates (`{{t.signIn}}`); dotted keys are looked up in code.
enum DashboardText {
    /// The texts of one language, by key.
    static func table(_ language: Language) -> [String: String] {
        language == .chinese ? chinese : english
    }

    private static let chinese = entries.mapValues(\.0)
    private static let english = entries.mapValues(\.1)

    /// Every key, for the test that each template key exists.
    static var keys: Set<String> { Set(entries.keys) }

    private static let entries: [String: (String, String)] = [
        // Chrome
        "app": ("困难职工解困脱困 · 工作台", "Doorstep · office dashboard"),
        "skip": ("跳到正文", "Skip to content"), "navLabel": ("主导航", "Main navigation"), "signOut": ("退出登录", "Sign out"),
        "footer": ("数据仅限本单位工作使用，请勿外传。", "Personal data: for official use only."),
        "nav.overview": ("总览", "Overview"), "nav.review": ("待审核", "Review"), "nav.households": ("困难家庭", "Households"),
        "nav.compare": ("数据比对", "Data comparison"),
        "exportCsv": ("导出 CSV", "Export CSV"), "district": ("旗区", "District"), "allDistricts": ("全市（所有旗区）", "Whole city (all districts)"),
        "show": ("查看", "Show"), "status": ("状态", "Status"), "summary": ("概况", "Summary"),
        // Sign-in
        "signIn.title": ("登录", "Sign in"), "accountName": ("账号", "Account name"), "password": ("密码", "Password"), "signIn": ("登录", "Sign in"),
        "signInHint": ("账号由市总工会或本旗区工会用 doorstep admin users 创建。", "Accounts are created by the city or your district office with doorstep admin users."),
        "signIn.failed": ("账号或密码错误。", "Wrong account name or password."),
        "signIn.disabled": ("该账号已停用，请联系管理员。", "This account is disabled; ask your administrator."),
        "signIn.rateLimited": ("登录失败次数过多，请几分钟后再试。", "Too many failed sign-ins; wait a few minutes and try again."),
        // Overview
        "overview.title": ("工作总览", "Overview"), "campaign": ("攻坚行动", "Campaign"), "campaignStage": ("当前阶段", "Campaign stage"),
        "daysLeft": ("本阶段剩余天数", "Days left in this stage"), "noStageToday": ("今天不在任何阶段内。", "Today is outside every stage."),
        "overview.campaignOver": (
            "没有正在进行的督查考核周期：这是已于 %@ 结束的周期的数字。今年的周期由管理员在服务器上定义（--campaigns 文件）。",
            "No campaign is under way: these are the figures of the one that ended on %@. This year's campaign is defined on the server (--campaigns FILE)."
        ),
        "asOf": ("统计日期", "As of"), "households": ("困难家庭户数", "Households"),
        "createdSinceStart": ("行动开始后新建档", "Filed since the campaign began"), "overview.createdSinceStart": ("行动开始后新建档", "Filed since the campaign began"),
        "wrong": ("错（应退未退）", "Wrong (not eligible, still filed)"), "twice": ("重（重复建档）", "Twice (duplicate files)"),
        "belowMinimumLiving": ("人均收入低于低保标准", "Per-capita income below the minimum-living standard"),
        "pendingReview": ("待审核", "Waiting for review"), "conflicts": ("数据冲突", "Conflicts"), "duplicates": ("重复档案", "Duplicates"),
        "rejections": ("被拒绝的修改", "Rejected changes"), "staleDevices": ("3天以上未同步的设备", "Devices not synced for 3 days"),
        "openReview": ("去审核", "Open the review queue"), "visitsDoneDue": ("入户走访完成情况", "Home visits done against due"),
        "overview.coverage": ("走访覆盖率", "Visit coverage"), "missedCount": ("漏访户数", "Not yet visited"), "missedList": ("漏访名单", "List"),
        "exitRate": ("脱困率", "Exit rate"), "overview.exitRate": ("脱困率", "Exit rate"),
        "resolvedRate": ("解困脱困率（含兜底）", "Resolved rate (safety net included)"), "overview.resolvedRate": ("解困脱困率", "Resolved rate"),
        "assistance": ("帮扶清单事项", "Assistance items"), "assistanceDone": ("已完成", "Done"), "assistanceOpen": ("未完成", "Open"),
        "assistanceOverdue": ("已逾期", "Overdue"), "assistanceCancelled": ("已取消", "Cancelled"),
        "filesByStatus": ("档案状态分布", "Files by status"), "overview.filesByStatus": ("档案状态分布", "Files by status"),
        "causes": ("致困原因分布", "Causes of hardship"), "overview.causes": ("致困原因分布", "Causes of hardship"),
        "device.never": ("从未同步（需关注）", "never synced (check)"), "device.revoked": ("已撤销（%@）", "revoked (%@)"),
        "device.stale": ("超过3天未同步", "stale: no sync for 3 days"),
        "device.ok": ("正常", "up to date"), "device.clockFlagged": ("时钟异常", "clock wrong"),
        // Tables
        "table.empty": ("暂无记录。", "Nothing to list."), "table.status": ("档案状态（现在与行动开始时）", "Files by status (now and at the start)"),
        "table.causes": ("致困原因", "Causes"), "table.missed": ("漏访名单（识别阶段未入户核实）", "Not yet visited at home in the identification stage"),
        "table.wrong": ("疑似错档（走访结论不符合条件仍在档）", "Wrong files (not eligible, still filed)"),
        "table.devices": ("设备最近同步", "Devices' last sync"), "table.districts": ("各旗区进度", "Progress by district"),
        "table.conflicts": ("数据冲突", "Conflicts"), "table.duplicates": ("重复档案", "Duplicates"),
        "table.rejections": ("被拒绝的修改", "Rejected changes"), "table.clock": ("时钟异常的设备", "Devices with a wrong clock"),
        "table.households": ("困难家庭", "Households"), "table.facts": ("基本信息", "Facts"), "table.members": ("家庭成员", "Members"),
        "table.liaisons": ("帮扶联系人", "Liaisons"), "table.problems": ("问题清单", "Problem list"), "table.assistance": ("帮扶清单", "Assistance list"),
        "table.visits": ("走访记录", "Visits"), "table.history": ("修改记录（谁、何时、从哪台设备改了什么）", "Change history (who changed what, when, from which device)"),
        "table.comparison": ("比对结果", "Mismatches"),
        "column.status": ("状态", "status"), "column.now": ("现在", "now"), "column.atStart": ("行动开始时", "at the start"),
        "column.cause": ("致困原因", "cause"), "column.households": ("户数", "households"), "column.household": ("家庭", "household"),
        "column.district": ("旗区", "district"), "column.device": ("设备", "device"), "column.lastSync": ("最近同步", "last sync"),
        "column.syncState": ("同步情况", "sync"), "column.clock": ("时钟", "clock"), "column.coverage": ("走访覆盖率", "visit coverage"),
        "column.exitRate": ("脱困率", "exit rate"), "column.resolvedRate": ("解困脱困率", "resolved rate"), "column.missed": ("漏访", "missed"),
        "column.pendingReview": ("待审核", "waiting for review"), "column.kind": ("类别", "kind"), "column.field": ("项目", "field"),
        "column.value": ("内容", "value"), "column.writer": ("修改人（设备）", "writer (device)"), "column.writtenAt": ("修改时间", "written at"),
        "column.shown": ("当前显示", "shown"), "column.survivor": ("保留档案", "kept file"), "column.alias": ("合并的档案编号", "merged file id"),
        "column.time": ("时间", "time"), "column.seq": ("序号", "seq"), "column.code": ("代码", "code"), "column.reason": ("原因", "reason"),
        "column.headName": ("户主姓名", "head of household"), "column.nationalId": ("身份证号", "national ID"), "column.review": ("审核", "review"),
        "column.actor": ("操作人", "by"), "column.old": ("原内容", "before"), "column.new": ("新内容", "after"),
        "column.mismatch": ("不一致类型", "mismatch"), "column.line": ("名单行号", "roster line"), "column.detail": ("说明", "detail"),
        "column.onFile": ("档案中", "on file"), "column.inRoster": ("民政名单中", "in the roster"),
        // Review
        "review.title": ("待审核", "Review queue"), "noConflicts": ("没有待处理的数据冲突。", "No conflicts wait for review."),
        "review.reason.concurrentValues": ("两台设备同时修改了同一项", "two devices changed the same field"),
        "review.reason.deleteVersusEdit": ("一方删除时另一方正在修改", "deleted while someone else edited it"),
        "writer": ("修改人", "Written by"), "writtenAt": ("时间", "At"), "shownValue": ("当前显示", "shown now"), "review.shown": ("当前显示", "shown"),
        "overturnUse": ("改用此值", "Use this value instead"), "confirmShown": ("确认当前显示的值", "Confirm the shown value"),
        "confirmDeletion": ("确认删除", "Confirm the deletion"), "restoreEntry": ("恢复该条目", "Restore the entry"),
        "heldTitle": ("被撤销设备留待审核的修改", "Changes held from revoked laptops"),
        "heldExplain": (
            "这些修改来自已撤销设备的数据包，尚未生效。逐条核对后采纳（作为旗区工会的决定生效，历史中保留原设备和时间），或说明理由后不予采纳。",
            "These changes came in a revoked laptop's bundle and are not applied. Read each, then accept it (it takes effect as the office's decision; the history keeps the laptop and the time) or set it aside with a reason."
        ),
        "heldWriter": ("设备", "laptop"), "heldSeq": ("序号", "seq"), "heldWrittenAt": ("记录时间", "written"),
        "acceptHeld": ("采纳", "Accept"), "dismissHeld": ("不予采纳", "Set aside"), "dismissReason": ("理由", "Reason"),
        "typedValue": ("或填写新值", "Or type a new value"), "inYuan": ("（元）", " (yuan)"), "useTypedValue": ("改为此值", "Use the typed value"),
        "noDuplicates": ("没有重复档案。", "No duplicate files."), "survivor": ("保留档案", "Kept file"), "alias": ("合并的档案编号", "Merged file id"),
        "action": ("操作", "Action"), "unlink": ("取消合并", "Unlink"),
        "done.confirm": ("已确认。", "Confirmed."), "done.overturn": ("已改为所选的值。", "Changed to the chosen value."),
        "done.unlink": ("已取消合并。", "Unlinked."), "done.status": ("状态已更新。", "Status changed."),
        "done.accepted": ("已采纳该修改。", "The change was accepted."), "done.dismissed": ("已不予采纳，移出待审核。", "The change was set aside."),
        "error.stale": ("该冲突已被处理或已变化，请查看最新情况。", "This conflict was resolved or changed meanwhile; look again."),
        "error.refused": ("操作未被接受（%@）。", "The decision was refused (%@)."),
        "error.illegalTransition": ("不允许这样变更状态。", "That status change is not allowed."),
        "error.invalidValue": (
            "填写或选择的值无效：金额按元填写，如 2600、2,600.50 或 2600元（按分请加“分”）；选项请用其名称。",
            "The value was not valid: amounts in yuan, such as 2600, 2,600.50 or 2600元 (add 分 for fen); choices by their names."
        ),
        "error.negativeAmount": ("金额不能为负数。", "An amount cannot be negative."),
        "error.missingField": ("请填写一个值。", "Type a value."),
        "error.invalidNationalId": ("身份证号不正确，请核对。", "The national ID number is not valid; check it."),
        "error.invalidPhone": ("电话号码不正确：应为 11 位手机号或带区号的固定电话。", "Not a phone number: 11 digits, or a landline with its area code."),
        "error.unknownDistrict": ("没有这个旗区代码。", "No such district code."),
        // Households
        "households.title": ("困难家庭", "Households"), "anyStatus": ("全部状态", "Any status"), "search": ("姓名或身份证号后几位", "Name or end of national ID"),
        "household.title": ("家庭档案：%@", "Household: %@"), "household.conflicted": ("有冲突待审核", "conflict: waiting for review"),
        "aliases": ("已合并的重复档案", "Merged duplicate files"), "statusDecision": ("状态决定", "Status decision"),
        "newStatus": ("新状态", "New status"), "decide": ("确定", "Decide"),
        // Comparison
        "compare.title": ("数据比对（民政低保名单）", "Data comparison (civil-affairs roster)"),
        "rosterFile": ("民政名单文件（CSV）", "Roster file (CSV)"),
        "rosterHint": (
            "需含列：身份证号、姓名、低保金（元）；可选：旗区。UTF-8 或 GB18030 编码。比对不会修改任何档案。",
            "Columns: national ID, name, allowance (yuan); optional: district. UTF-8 or GB18030. Comparing changes nothing."
        ),
        "compareButton": ("开始比对", "Compare"), "compareCsv": ("比对并下载 CSV", "Compare and download CSV"),
        "compareSummary": ("比对结果概况", "Summary"), "rosterRows": ("名单行数", "Roster rows"),
        "notOnFile": ("名单中有、档案中无", "In the roster, not on file"), "notInRoster": ("档案中有、名单中无", "On file, not in the roster"),
        "disagreements": ("信息不一致", "Disagreements"), "invalidRows": ("无法读取的行", "Unreadable rows"), "outsideScope": ("其他旗区的行", "Rows of other districts"),
        "compare.notOnFile": ("名单中有、档案中无", "in the roster, not on file"), "compare.notInRoster": ("档案中有、名单中无", "on file, not in the roster"),
        "compare.disagreement": ("信息不一致", "disagreement"), "compare.invalid": ("无法读取", "unreadable row"),
        "compare.noMismatch": ("没有发现不一致。", "No mismatches."), "compare.noFile": ("请选择名单文件。", "Choose a roster file."),
        "compare.unreadable": ("名单文件无法读取。", "The roster file could not be read."),
        // Errors
        "errorPage.notFound": ("未找到", "Not found"), "errorPage.forbidden": ("请求被拒绝", "Refused"),
        "errorPage.rateLimited": ("请稍后再试", "Try again later"), "errorPage.failed": ("操作失败", "Something went wrong"),
        "errorCode": ("错误代码", "Error code"), "backToOverview": ("返回总览", "Back to the overview"),
    ]
}
