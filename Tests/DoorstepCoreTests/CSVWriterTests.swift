import DoorstepCore
import Foundation
import Testing

struct CSVWriterTests {
    @Test func aDocument_hasTheByteOrderMark_CRLFLines_andQuotesWhatNeedsIt() {
        let data = CSVWriter.document([["户主", "地址"], ["王某", "东胜区 \"建设街\", 12号\n3单元"]])
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = String(decoding: data.dropFirst(3), as: UTF8.self)
        #expect(text == "户主,地址\r\n王某,\"东胜区 \"\"建设街\"\", 12号\n3单元\"\r\n")
    }

    @Test func aCellASpreadsheetWouldRun_isShownNotRun() {
        #expect(CSVWriter.field("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        for cell in ["+1+1", "-A1", "@SUM(A1)", "\tx", "\rx", "-1.5"] {
            #expect(CSVWriter.field(cell).hasPrefix("'") || CSVWriter.field(cell).hasPrefix("\"'"), "\(cell.debugDescription)")
        }
        for cell in ["-5", "+12", "0", "王某", "2600", ""] {
            #expect(CSVWriter.field(cell) == cell, "a whole number or plain text stays as it is: \(cell)")
        }
    }
}
