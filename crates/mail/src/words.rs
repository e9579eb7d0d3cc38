//! The word lists the classifier reads messages with, kept apart from its
//! logic so that they can be reviewed and extended on their own.

/// Words that ask for a sign-in or an account check, in the languages
/// phishing to Japanese and international organisations uses.
const CREDENTIAL_WORDS: &[&str] = &[
    "verify your",
    "confirm your",
    "account has been",
    "account will be",
    "unusual sign",
    "unusual activity",
    "sign in to",
    "sign-in",
    "log in to",
    "login to your",
    "password",
    "mailbox",
    "storage is full",
    "validate",
    "reactivate",
    "security alert",
    "suspended",
    "locked",
    "verify your identity",
    "update your account",
    "senha",
    "sua conta",
    "acesse",
    "atualize",
    "bloquead",
    "verifique",
    "confirme",
    "cadastro",
    "su cuenta",
    "contraseña",
    "verificar",
    "mot de passe",
    "votre compte",
    "passwort",
    "ihr konto",
    "アカウント",
    "パスワード",
    "ログイン",
    "本人確認",
    "認証",
    "利用停止",
    "セキュリティ",
];

/// Words that ask for payment or card details.
const PAYMENT_WORDS: &[&str] = &[
    "invoice",
    "payment",
    "refund",
    "overdue",
    "billing",
    "credit card",
    "card details",
    "unpaid",
    "fatura",
    "boleto",
    "pagamento",
    "pix",
    "reembolso",
    "débito",
    "factura",
    "pago",
    "rechnung",
    "amount paid",
    "transaction id",
    "your purchase",
    "subscription",
    "renewal",
    "tax refund",
    "irpf",
    "restituição",
    "receita federal",
    "extrato",
    "intimação",
    "valores a receber",
    "withdraw",
    "steuererstattung",
    "belastingdienst",
    "請求",
    "支払",
    "振込",
    "返金",
    "未納",
];

/// Words of a money request (business e-mail compromise).
const MONEY_REQUEST_WORDS: &[&str] = &[
    "wire transfer",
    "gift card",
    "bank details",
    "new bank account",
    "change of bank",
    "are you available",
    "urgent request",
    "kindly",
    "transferência",
    "cartão presente",
    "至急",
    "振込先",
    "ギフトカード",
    "donation",
    "relief fund",
    "beneficiary",
    "inheritance",
    "next of kin",
    "compensation fund",
    "barrister",
    "million usd",
    "million dollars",
    "your assistance",
    "my dear",
    "dearest",
    "investment",
    "empréstimo",
    "financiamento",
    "herança",
    "doação",
    "querido",
    "querida",
];

/// Words of romance scams: a stranger's introduction and a photo.
const ROMANCE_WORDS: &[&str] = &[
    "lonely",
    "years old",
    "my photo",
    "my picture",
    "what state are you from",
    "what state are u from",
    "trying to find",
    "charming man",
    "charming male",
    "looking for a man",
    "find a man",
    "single woman",
    "beautiful lady",
    "spannende afspraak",
    "vaste relatie",
    "meine fotos",
    "mein foto",
    "sexy",
];

/// Advertising, gambling, crypto-reward, dating and bulk-mail wording, in
/// the languages of the mail the centre receives.
const SPAM_WORDS: &[&str] = &[
    "click here",
    "limited time",
    "act now",
    "special offer",
    "discount",
    "winner",
    "congratulations",
    "viagra",
    "casino",
    "loan",
    "$$$",
    "100%",
    "free!",
    "order now",
    "buy now",
    "lowest price",
    "exclusive",
    "bonus",
    "free spins",
    "jackpot",
    "reward",
    "voucher",
    "gift card",
    "giveaway",
    "airdrop",
    "staking",
    "bitcoin",
    "crypto",
    "wallet",
    "singles",
    "dating",
    "weight loss",
    "deal ends",
    "claim your",
    "you have won",
    "you've won",
    "promoção",
    "grátis",
    "desconto",
    "oferta",
    "prêmio",
    "parabéns",
    "clique aqui",
    "empréstimo",
    "crédito",
    "freispiele",
    "gewonnen",
    "gutschein",
    "angebot",
    "rabatt",
    "korting",
    "gratis",
    "cadeaukaart",
    "gagné",
    "gratuit",
    "offre",
    "félicitations",
    "配信停止",
    "今すぐ",
    "無料",
    "gewinnen",
    "gewinnspiel",
    "win big",
    "prize",
    "prijs",
    "verloten",
    "been chosen",
    "been selected",
    "no deposit",
    "welcome package",
    "willkommensbonus",
    "chance to win",
    "spielen",
    "freispiel",
    "当選",
    "プレゼント",
    "キャンペーン",
];

/// The footer of bulk mail, which discussion lists also carry: counted
/// only for mail that did not come through a list.
const BULK_WORDS: &[&str] = &[
    "unsubscribe",
    "opt-out",
    "opt out",
    "abmelden",
    "descadastr",
];

/// Top-level domains mostly registered cheaply for abuse.
pub(crate) const ABUSED_TLDS: &[&str] = &[
    "cfd", "quest", "top", "xyz", "click", "sbs", "icu", "buzz", "monster", "rest", "bond", "cyou",
    "shop", "online", "site", "live", "support", "work", "loan", "win", "bid", "zip", "mov",
];

/// Free mailbox providers: a company rarely writes from one.
pub(crate) const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "aol.com",
    "icloud.com",
    "mail.ru",
    "yandex.ru",
    "gmx.com",
    "gmx.de",
    "protonmail.com",
    "proton.me",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "uol.com.br",
    "bol.com.br",
];

/// The word lists a text is scanned for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    /// [`CREDENTIAL_WORDS`].
    Credential,
    /// [`PAYMENT_WORDS`].
    Payment,
    /// [`MONEY_REQUEST_WORDS`].
    MoneyRequest,
    /// [`ROMANCE_WORDS`].
    Romance,
    /// [`SPAM_WORDS`].
    Spam,
    /// [`BULK_WORDS`].
    Bulk,
}

/// The lists a text is scanned for, in one pass, in [`List`] order.
const LISTS: [&[&str]; 6] = [
    CREDENTIAL_WORDS,
    PAYMENT_WORDS,
    MONEY_REQUEST_WORDS,
    ROMANCE_WORDS,
    SPAM_WORDS,
    BULK_WORDS,
];

/// Every word of every list in one automaton, with the list and word each
/// pattern stands for.
static AUTOMATON: std::sync::LazyLock<(aho_corasick::AhoCorasick, Vec<(usize, &'static str)>)> =
    std::sync::LazyLock::new(|| {
        let patterns: Vec<(usize, &'static str)> = LISTS
            .iter()
            .enumerate()
            .flat_map(|(list, words)| words.iter().map(move |w| (list, *w)))
            .collect();
        let automaton = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(patterns.iter().map(|(_, w)| w))
            .expect("the word lists build");
        (automaton, patterns)
    });

/// The words of each list a (lower-case) text holds, each once.
pub(crate) struct WordHits {
    hits: Vec<(usize, &'static str)>,
}

impl WordHits {
    /// Scans a text for every list at once.
    pub(crate) fn scan(text: &str) -> WordHits {
        let (automaton, patterns) = &*AUTOMATON;
        let mut hits: Vec<(usize, &'static str)> = Vec::new();
        for m in automaton.find_overlapping_iter(text) {
            let hit = patterns[m.pattern().as_usize()];
            if !hits.contains(&hit) {
                hits.push(hit);
            }
        }
        WordHits { hits }
    }

    /// The words found from one of the lists.
    pub(crate) fn of(&self, list: List) -> Vec<&'static str> {
        let index = list as usize;
        self.hits
            .iter()
            .filter(|(l, _)| *l == index)
            .map(|(_, w)| *w)
            .collect()
    }
}
