import Foundation

/// The fixed lists the sample data draws from. Every name is marked as an example (示例) or a
/// typo of one (示列), every street, employer and union is made up: none is a real person or
/// a real company.
enum SyntheticNames {
    /// Common Han surnames (a surname alone names nobody).
    static let surnames = [
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
        "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
    ]

    /// The ten heavenly stems, used as ordinal markers after 示例: 王示例甲, 王示例乙 …
    static let markers = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸"]

    /// Mongolian given names (Ordos has many Mongolian families), written 巴特尔·示例甲: a
    /// Mongolian name carries no Han surname, and the middle dot is how such names are written.
    static let mongolianNames = ["巴特尔", "其其格", "乌云", "斯琴", "额尔敦", "阿拉坦", "苏和", "娜仁", "图雅", "宝音"]

    /// A Han name marked as an example.
    static func han(surname: String, marker: String) -> String {
        surname + "示例" + marker
    }

    /// A Mongolian-style name marked as an example.
    static func mongolian(_ name: String, marker: String) -> String {
        name + "·示例" + marker
    }

    /// The same name with a typing error, as another office's register might have it (例 → 列).
    static func misspelled(_ name: String) -> String {
        name.replacingOccurrences(of: "示例", with: "示列")
    }

    /// The same name with another kind of middle dot (not a difference: the comparison ignores it).
    static func otherDot(_ name: String) -> String {
        name.replacingOccurrences(of: "·", with: "•")
    }

    /// Made-up streets.
    static let streets = ["示例路", "示例街", "样例巷", "示范大街", "演示路", "样例北路", "示例南街", "样板路"]

    /// Made-up employers; each has a grassroots union named after it.
    static let employers = [
        "示例煤业有限责任公司", "示例羊绒制品有限公司", "样例建材有限公司", "示例物流有限公司", "样例化工有限公司",
        "示例物业服务有限公司", "样例餐饮管理有限公司", "示例商贸有限公司", "示例电力安装工程有限公司", "样例运输有限公司",
    ]

    /// Skills a member may have (free text in the member's file).
    static let skills = ["电焊", "驾驶", "家政服务", "烹饪", "电工", "缝纫", "养殖", "收银"]

    /// Region codes of Inner Mongolia outside the city, where a person may have been first
    /// registered (a national ID opens with that place's code): Hohhot, Baotou, Wuhai, Bayannur,
    /// and the codes of the former Yikezhao League (1527xx), which Ordos was until 2001.
    static let innerMongoliaRegions = ["150102", "150105", "150202", "150203", "150302", "150802", "152701", "152722", "152723"]
}
