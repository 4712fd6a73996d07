//! The vocabulary the generator draws from: names, Ningbo places, business names, remarks.
//!
//! Weights are relative (they need not sum to anything). Surnames are weighted by their frequency in
//! Zhejiang, which differs from the national ranking (陈 and 王 lead; 俞 应 鲍 邬 竺 励 are typical of
//! Ningbo).

/// `(surname, weight, pinyin)`; the pinyin builds plausible e-mail addresses.
pub(crate) const SURNAMES: &[(&str, u32, &str)] = &[
    ("陈", 60, "chen"),
    ("王", 58, "wang"),
    ("张", 40, "zhang"),
    ("李", 36, "li"),
    ("徐", 25, "xu"),
    ("周", 25, "zhou"),
    ("刘", 20, "liu"),
    ("林", 20, "lin"),
    ("吴", 20, "wu"),
    ("杨", 18, "yang"),
    ("胡", 18, "hu"),
    ("黄", 15, "huang"),
    ("沈", 12, "shen"),
    ("叶", 12, "ye"),
    ("孙", 12, "sun"),
    ("朱", 12, "zhu"),
    ("郑", 12, "zheng"),
    ("俞", 10, "yu"),
    ("应", 10, "ying"),
    ("赵", 10, "zhao"),
    ("何", 10, "he"),
    ("蒋", 10, "jiang"),
    ("金", 10, "jin"),
    ("高", 8, "gao"),
    ("许", 8, "xu"),
    ("鲍", 6, "bao"),
    ("邬", 6, "wu"),
    ("毛", 6, "mao"),
    ("马", 6, "ma"),
    ("谢", 6, "xie"),
    ("钱", 6, "qian"),
    ("汪", 6, "wang"),
    ("方", 6, "fang"),
    ("董", 6, "dong"),
    ("潘", 6, "pan"),
    ("蔡", 6, "cai"),
    ("郭", 5, "guo"),
    ("罗", 5, "luo"),
    ("史", 5, "shi"),
    ("袁", 5, "yuan"),
    ("冯", 5, "feng"),
    ("邵", 5, "shao"),
    ("丁", 5, "ding"),
    ("虞", 4, "yu"),
    ("童", 4, "tong"),
    ("楼", 4, "lou"),
    ("任", 4, "ren"),
    ("梁", 4, "liang"),
    ("宋", 4, "song"),
    ("竺", 3, "zhu"),
    ("屠", 3, "tu"),
    ("励", 3, "li"),
    ("柴", 3, "chai"),
    ("忻", 2, "xin"),
    ("戴", 3, "dai"),
    ("夏", 3, "xia"),
];

/// One-character given names.
pub(crate) const GIVEN_SINGLE: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "霞", "平", "刚", "燕", "萍", "红", "波", "斌", "鹏", "辉", "华", "琴", "英", "峰", "亮",
    "健", "婷", "雪", "颖", "琳", "晨", "浩", "宇", "欣", "怡", "凯", "薇", "瑜", "骏",
];

/// Two-character given names as people of several generations are really called.
pub(crate) const GIVEN_DOUBLE: &[&str] = &[
    "建国", "建华", "建平", "建明", "国平", "国华", "国庆", "志强", "志明", "海燕", "海峰", "晓燕",
    "晓峰", "晓东", "晓红", "丽娟", "丽萍", "秀英", "秀珍", "桂英", "桂芳", "玉兰", "玉芬", "美华",
    "雪芬", "素珍", "亚萍", "卫东", "卫国", "红霞", "春燕", "伟民", "立新", "永康", "文斌", "俊杰",
    "家豪", "子涵", "梓涵", "浩然", "宇轩", "欣怡", "思琪", "雨欣", "一诺", "佳怡", "嘉怡", "子轩",
    "皓轩", "雅婷", "明辉", "振华", "金龙", "金花", "宏伟", "国强", "爱华", "素娟", "月娥", "彩娣",
    "杏娣", "阿国", "银娣",
];

/// First and second characters that combine into unremarkable two-character given names (晓军, 建芳 …).
pub(crate) const GIVEN_FIRST: &[&str] = &[
    "晓", "文", "建", "国", "志", "海", "丽", "伟", "明", "春", "玉", "秀", "俊", "佳", "思", "雨",
    "浩", "嘉", "家", "金", "永", "立", "亚", "卫", "红", "雪", "美", "少", "一", "天",
];
pub(crate) const GIVEN_SECOND: &[&str] = &[
    "华", "明", "军", "平", "芳", "英", "峰", "燕", "萍", "杰", "涛", "辉", "琴", "霞", "婷", "玲",
    "颖", "琳", "宇", "涵", "怡", "波", "斌", "勇", "强", "东", "林", "龙", "飞", "青", "荣", "珍",
];

/// Foreign residents (Ningbo has universities and a port): the English-speaking customers.
pub(crate) const WESTERN_FIRST: &[&str] = &[
    "David", "Michael", "James", "Robert", "Thomas", "Daniel", "Mark", "Paul", "Sarah", "Emma",
    "Laura", "Anna", "Sophie", "Julia", "Olivia", "Peter",
];
pub(crate) const WESTERN_LAST: &[&str] = &[
    "Smith", "Johnson", "Brown", "Miller", "Wilson", "Taylor", "Anderson", "Clark", "Walker",
    "Wright", "Hughes", "Evans", "Schmidt", "Fischer", "Rossi", "Dubois",
];

pub(crate) struct DistrictWords {
    pub name: &'static str,
    /// First digit of this district's customer numbers.
    pub digit: u8,
    pub weight: u32,
    /// 街道 written into suburban addresses; empty in the city centre, where addresses omit it.
    pub towns: &'static [&'static str],
    pub roads: &'static [&'static str],
    pub communities: &'static [&'static str],
}

pub(crate) const DISTRICTS: &[DistrictWords] = &[
    DistrictWords {
        name: "海曙区",
        digit: 1,
        weight: 22,
        towns: &[],
        roads: &[
            "中山西路",
            "解放南路",
            "解放北路",
            "开明街",
            "药行街",
            "柳汀街",
            "望京路",
            "环城西路",
            "苍松路",
            "气象路",
            "长春路",
            "孝闻街",
            "县前街",
            "西河街",
            "尹江路",
            "丽园南路",
            "段塘西路",
        ],
        communities: &[
            "白云庄小区",
            "安丰小区",
            "南苑小区",
            "新星小区",
            "翠柏小区",
            "望春花园",
            "天一家园",
            "泰安花园",
            "柳汀新村",
            "孝闻小区",
            "文昌花园",
            "丽园小区",
            "段塘小区",
            "南门小区",
            "桂花园",
            "月湖花园",
        ],
    },
    DistrictWords {
        name: "江北区",
        digit: 2,
        weight: 16,
        towns: &[],
        roads: &[
            "人民路",
            "大庆南路",
            "大闸路",
            "新马路",
            "育才路",
            "北环东路",
            "洪塘中路",
            "怡西街",
            "槐树路",
            "湖西路",
            "通途西路",
            "环城北路",
        ],
        communities: &[
            "湖西小区",
            "孔浦小区",
            "白沙花苑",
            "庄桥新村",
            "绿梅小区",
            "怡江小区",
            "甬江花园",
            "谢家新村",
            "双东小区",
            "文教小区",
            "洪塘小区",
            "康庄新村",
        ],
    },
    DistrictWords {
        name: "鄞州区",
        digit: 3,
        weight: 32,
        towns: &[],
        roads: &[
            "天童南路",
            "天童北路",
            "四明中路",
            "宁穿路",
            "中山东路",
            "钱湖北路",
            "首南西路",
            "泰康中路",
            "百丈东路",
            "桑田路",
            "兴宁路",
            "嵩江中路",
            "惠风东路",
            "日丽中路",
            "鄞县大道",
            "学士路",
        ],
        communities: &[
            "银泰小区",
            "四明花园",
            "东湖花园",
            "百丈小区",
            "长丰小区",
            "锦苑小区",
            "兴宁小区",
            "划船小区",
            "和美家园",
            "金色水岸",
            "东柳小区",
            "明楼小区",
            "曙光小区",
            "徐家小区",
            "樱花小区",
            "丹凤小区",
        ],
    },
    DistrictWords {
        name: "北仑区",
        digit: 4,
        weight: 16,
        towns: &["新碶街道", "大碶街道", "小港街道", "霞浦街道"],
        roads: &[
            "明州路",
            "长江路",
            "太河路",
            "华山路",
            "庐山东路",
            "岷山路",
            "黄山路",
            "四明山路",
            "新大路",
            "恒山路",
            "泰山路",
            "凤洋一路",
        ],
        communities: &[
            "九峰小区",
            "华山小区",
            "新碶小区",
            "银桥花园",
            "太河小区",
            "明港小区",
            "长江小区",
            "鸿润花园",
            "庐山小区",
            "岷山小区",
            "大碶新村",
            "霞浦小区",
        ],
    },
    DistrictWords {
        name: "镇海区",
        digit: 5,
        weight: 14,
        towns: &["招宝山街道", "骆驼街道", "庄市街道", "蛟川街道"],
        roads: &[
            "车站路",
            "城河西路",
            "胜利路",
            "沿江西路",
            "镇宁西路",
            "东门街",
            "庄市大道",
            "盛兴路",
            "静远路",
            "骆兴路",
            "中官路",
        ],
        communities: &[
            "招宝山小区",
            "城西小区",
            "俞范小区",
            "桕墅方小区",
            "蛟川小区",
            "海天小区",
            "金色嘉园",
            "明海小区",
            "骆驼新村",
            "庄市小区",
            "清水湖小区",
            "胜利小区",
        ],
    },
];

/// `(brand, pinyin)` for company names: 宁波甬江餐饮有限公司.
pub(crate) const BRANDS: &[(&str, &str)] = &[
    ("甬江", "yongjiang"),
    ("天一", "tianyi"),
    ("三江", "sanjiang"),
    ("东海", "donghai"),
    ("明州", "mingzhou"),
    ("四明", "siming"),
    ("海港", "haigang"),
    ("金港", "jingang"),
    ("鑫盛", "xinsheng"),
    ("华美", "huamei"),
    ("顺发", "shunfa"),
    ("永丰", "yongfeng"),
    ("鼎盛", "dingsheng"),
    ("和丰", "hefeng"),
    ("港城", "gangcheng"),
    ("宁兴", "ningxing"),
    ("恒达", "hengda"),
    ("瑞丰", "ruifeng"),
    ("老外滩", "laowaitan"),
    ("月湖", "yuehu"),
    ("东钱湖", "dongqianhu"),
    ("招宝", "zhaobao"),
    ("梅山", "meishan"),
    ("慈城", "cicheng"),
];

/// What a business customer is; decides its name, gas use and contact habits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum BusinessKind {
    /// 宁波xx餐饮有限公司
    Restaurant,
    /// xx面馆: small, often on cylinders.
    Eatery,
    /// xx小区物业 (boiler room, canteen)
    Property,
    Hotel,
    Canteen,
    Factory,
}

pub(crate) const BUSINESS_KINDS: &[(BusinessKind, u32)] = &[
    (BusinessKind::Restaurant, 30),
    (BusinessKind::Eatery, 22),
    (BusinessKind::Property, 14),
    (BusinessKind::Hotel, 12),
    (BusinessKind::Canteen, 12),
    (BusinessKind::Factory, 10),
];

pub(crate) const ELDERLY_REMARK: &str = "老人独居，上门请提前电话联系";

pub(crate) const HOUSEHOLD_REMARKS: &[&str] = &[
    "白天家中无人，请晚上6点后联系",
    "家中有狗，上门请先敲门",
    "表箱在楼道内，钥匙由物业保管",
    "老人听力不好，电话请大声说话",
    "租户居住，账单请同时通知房东",
    "2024年入户安检合格，燃气灶已更换",
    "上次安检发现软管老化，已提醒更换",
    "只接受短信通知，请勿夜间来电",
    "曾反映燃气表走字偏快，已校验正常",
    "独居老人，子女电话为第二联系号码",
];

pub(crate) const BUSINESS_REMARKS: &[&str] = &[
    "营业时间10:00-22:00，抢修请联系店长",
    "商业用户，气费月结，发票寄财务部",
    "厨房灶具多，每季度安检一次",
    "重点用户，停气须提前三天书面通知",
    "夜间有值班人员，可24小时联系",
];

pub(crate) const EXPAT_REMARK: &str = "Prefers English; speaks little Chinese";

/// Mobile prefixes weighted roughly by their share in Zhejiang (China Mobile leads).
pub(crate) const MOBILE_PREFIXES: &[(&str, u32)] = &[
    ("138", 10),
    ("139", 10),
    ("135", 8),
    ("136", 6),
    ("137", 6),
    ("150", 6),
    ("151", 5),
    ("152", 4),
    ("158", 6),
    ("159", 5),
    ("187", 4),
    ("188", 3),
    ("130", 3),
    ("131", 2),
    ("132", 2),
    ("155", 2),
    ("156", 2),
    ("186", 4),
    ("185", 2),
    ("133", 2),
    ("153", 2),
    ("180", 2),
    ("189", 3),
    ("177", 2),
    ("173", 1),
    ("199", 2),
    ("198", 1),
    ("166", 1),
];

/// First digit of the 8-digit Ningbo local number, one block of 10⁷ numbers each: see `landline`.
pub(crate) const LANDLINE_LEADS: &[u8] = b"8265";

pub(crate) const MAIL_DOMAINS: &[&str] =
    &["163.com", "126.com", "sina.com", "139.com", "foxmail.com"];
pub(crate) const WESTERN_MAIL_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "hotmail.com"];
