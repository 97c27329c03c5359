import AftersalesDomain
import Foundation

/// Short localized labels the templates show: shipment modes and states, complaint categories,
/// document and holiday names. English is the fallback for languages without a table.
enum Labels {
    typealias Table = [String: [String: String]]

    static func pick(_ table: Table, _ key: String, _ language: String) -> String {
        table[language]?[key] ?? table["en"]?[key] ?? key
    }

    static let modes: Table = [
        "en": ["sea": "sea freight", "air": "air freight", "express": "express courier", "rail": "rail freight", "road": "road freight"],
        "es": ["sea": "marítimo", "air": "aéreo", "express": "mensajería exprés", "rail": "ferroviario", "road": "terrestre"],
        "pt": ["sea": "marítimo", "air": "aéreo", "express": "courier expresso", "rail": "ferroviário", "road": "rodoviário"],
        "fr": ["sea": "maritime", "air": "aérien", "express": "express", "rail": "ferroviaire", "road": "routier"],
        "de": ["sea": "Seefracht", "air": "Luftfracht", "express": "Expresskurier", "rail": "Bahnfracht", "road": "Straßentransport"],
        "ru": ["sea": "морем", "air": "авиа", "express": "экспресс-доставка", "rail": "железной дорогой", "road": "автотранспортом"],
        "ar": ["sea": "شحن بحري", "air": "شحن جوي", "express": "بريد سريع", "rail": "شحن بالسكك الحديدية", "road": "شحن بري"],
        "zh": ["sea": "海运", "air": "空运", "express": "快递", "rail": "铁路运输", "road": "公路运输"],
    ]

    static let states: Table = [
        "en": ["dispatched": "dispatched", "in-transit": "in transit", "delayed": "delayed", "at-customs": "arriving at customs",
               "held": "held at customs", "cleared": "cleared customs", "delivered": "delivered"],
        "es": ["dispatched": "despachado", "in-transit": "en tránsito", "delayed": "retrasado", "at-customs": "llegando a aduana",
               "held": "retenido en aduana", "cleared": "despachado de aduana", "delivered": "entregado"],
        "pt": ["dispatched": "despachado", "in-transit": "em trânsito", "delayed": "atrasado", "at-customs": "chegando à alfândega",
               "held": "retido na alfândega", "cleared": "liberado pela alfândega", "delivered": "entregue"],
        "fr": ["dispatched": "expédié", "in-transit": "en transit", "delayed": "retardé", "at-customs": "en arrivée en douane",
               "held": "retenu en douane", "cleared": "dédouané", "delivered": "livré"],
        "de": ["dispatched": "versandt", "in-transit": "unterwegs", "delayed": "verspätet", "at-customs": "beim Zoll angekommen",
               "held": "vom Zoll zurückgehalten", "cleared": "verzollt", "delivered": "zugestellt"],
        "ru": ["dispatched": "отправлен", "in-transit": "в пути", "delayed": "задерживается", "at-customs": "прибывает на таможню",
               "held": "задержан таможней", "cleared": "растаможен", "delivered": "доставлен"],
        "ar": ["dispatched": "تم الشحن", "in-transit": "في الطريق", "delayed": "متأخر", "at-customs": "يصل إلى الجمارك",
               "held": "محتجز في الجمارك", "cleared": "تم التخليص الجمركي", "delivered": "تم التسليم"],
        "zh": ["dispatched": "已发货", "in-transit": "运输中", "delayed": "延误", "at-customs": "即将到达目的港海关",
               "held": "海关扣留", "cleared": "已清关", "delivered": "已签收"],
    ]

    static let categories: Table = [
        "en": ["damage": "damage on arrival", "quality": "product quality", "not-as-described": "not as described",
               "short-shipment": "short shipment", "logistics-delay": "delivery delay", "communication": "a misunderstanding", "other": "your concern"],
        "es": ["damage": "daños en la llegada", "quality": "calidad del producto", "not-as-described": "no coincide con la descripción",
               "short-shipment": "envío incompleto", "logistics-delay": "retraso en la entrega", "communication": "un malentendido", "other": "su inquietud"],
        "pt": ["damage": "avaria na chegada", "quality": "qualidade do produto", "not-as-described": "diferente do descrito",
               "short-shipment": "envio incompleto", "logistics-delay": "atraso na entrega", "communication": "um mal-entendido", "other": "sua questão"],
        "fr": ["damage": "dommages à l'arrivée", "quality": "qualité du produit", "not-as-described": "non conforme à la description",
               "short-shipment": "livraison incomplète", "logistics-delay": "retard de livraison", "communication": "un malentendu", "other": "votre demande"],
        "de": ["damage": "Transportschaden", "quality": "Produktqualität", "not-as-described": "Abweichung von der Beschreibung",
               "short-shipment": "unvollständige Lieferung", "logistics-delay": "Lieferverzögerung", "communication": "ein Missverständnis", "other": "Ihr Anliegen"],
        "ru": ["damage": "повреждение при доставке", "quality": "качество товара", "not-as-described": "несоответствие описанию",
               "short-shipment": "недопоставка", "logistics-delay": "задержка доставки", "communication": "недопонимание", "other": "ваше обращение"],
        "ar": ["damage": "تلف عند الوصول", "quality": "جودة المنتج", "not-as-described": "عدم مطابقة الوصف",
               "short-shipment": "نقص في الشحنة", "logistics-delay": "تأخر التسليم", "communication": "سوء فهم", "other": "استفساركم"],
        "zh": ["damage": "到货破损", "quality": "产品质量", "not-as-described": "与描述不符",
               "short-shipment": "少发货", "logistics-delay": "物流延误", "communication": "沟通误解", "other": "您反映的问题"],
    ]

    static let documents: Table = [
        "en": [:],
        "es": ["commercial invoice": "factura comercial", "certificate of origin": "certificado de origen", "packing list": "lista de empaque",
               "bill of lading": "conocimiento de embarque", "import licence": "licencia de importación"],
        "pt": ["commercial invoice": "fatura comercial", "certificate of origin": "certificado de origem", "packing list": "romaneio (packing list)",
               "bill of lading": "conhecimento de embarque (B/L)", "import licence": "licença de importação"],
        "fr": ["commercial invoice": "facture commerciale", "certificate of origin": "certificat d'origine", "packing list": "liste de colisage",
               "bill of lading": "connaissement", "import licence": "licence d'importation"],
        "de": ["commercial invoice": "Handelsrechnung", "certificate of origin": "Ursprungszeugnis", "packing list": "Packliste",
               "bill of lading": "Konnossement", "import licence": "Einfuhrlizenz"],
        "ru": ["commercial invoice": "коммерческий инвойс", "certificate of origin": "сертификат происхождения", "packing list": "упаковочный лист",
               "bill of lading": "коносамент", "import licence": "импортная лицензия"],
        "ar": ["commercial invoice": "الفاتورة التجارية", "certificate of origin": "شهادة المنشأ", "packing list": "قائمة التعبئة",
               "bill of lading": "بوليصة الشحن", "import licence": "رخصة الاستيراد"],
        "zh": ["commercial invoice": "商业发票", "certificate of origin": "原产地证书", "packing list": "装箱单", "bill of lading": "提单",
               "import licence": "进口许可证"],
    ]

    static let holidays: Table = [
        "en": [:],
        "es": ["Christmas": "Navidad", "Ramadan": "Ramadán", "Chinese New Year": "Año Nuevo chino"],
        "pt": ["Christmas": "Natal", "Ramadan": "Ramadã", "Chinese New Year": "Ano-Novo Chinês"],
        "fr": ["Christmas": "Noël", "Ramadan": "Ramadan", "Chinese New Year": "Nouvel An chinois"],
        "de": ["Christmas": "Weihnachten", "Ramadan": "Ramadan", "Chinese New Year": "Chinesisches Neujahr"],
        "ru": ["Christmas": "Рождество", "Ramadan": "Рамадан", "Chinese New Year": "Китайский Новый год"],
        "ar": ["Christmas": "عيد الميلاد", "Ramadan": "رمضان", "Chinese New Year": "رأس السنة الصينية"],
        "zh": ["Christmas": "圣诞节", "Ramadan": "斋月", "Chinese New Year": "春节"],
    ]

    /// The trade-in offer of an upgrade notice whose product names no offer of its own; `{percent}` is the percent.
    static let tradeIns: [String: String] = [
        "en": "{percent}% off the new model when you trade in your current one",
        "es": "{percent}% de descuento en el nuevo modelo al entregar su equipo actual",
        "pt": "{percent}% de desconto no novo modelo na troca do seu equipamento atual",
        "fr": "{percent} % de remise sur le nouveau modèle avec la reprise de votre équipement actuel",
        "de": "{percent} % Rabatt auf das neue Modell bei Inzahlungnahme Ihres jetzigen Geräts",
        "ru": "скидка {percent}% на новую модель при сдаче вашего текущего оборудования",
        "ar": "خصم {percent}% على الطراز الجديد عند استبدال جهازكم الحالي",
        "zh": "以旧换新，新型号立减 {percent}%",
    ]

    static func tradeIn(_ percent: Int, _ language: String) -> String {
        (tradeIns[language] ?? tradeIns["en"] ?? "").replacingOccurrences(of: "{percent}", with: String(percent))
    }

    static func mode(_ mode: ShipmentMode, _ language: String) -> String { pick(modes, mode.rawValue, language) }
    static func status(_ kind: ShipmentEventKind, _ language: String) -> String { pick(states, kind.rawValue, language) }
    static func dispatched(_ language: String) -> String { pick(states, "dispatched", language) }
    static func category(_ category: ComplaintCategory, _ language: String) -> String { pick(categories, category.rawValue, language) }
    /// The document's name in the language, or as it was typed when there is no translation.
    static func document(_ name: String, _ language: String) -> String { documents[language]?[name.lowercased()] ?? name }
    static func holiday(_ name: String, _ language: String) -> String { pick(holidays, name, language) }

    /// The country's name in the language, from Foundation's locale data.
    static func country(_ code: String, _ language: String) -> String {
        countryNames.value("\(language)|\(code)") { Locale(identifier: language).localizedString(forRegionCode: code) ?? code }
    }

    static let countryNames = Memo<String, String>()
}
