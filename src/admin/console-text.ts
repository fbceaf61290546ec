/** The console's words in French, Arabic and English; the console follows ?lang= or the browser. */
export const CONSOLE_LANGUAGES = ['fr', 'ar', 'en'] as const;
export type ConsoleLanguage = (typeof CONSOLE_LANGUAGES)[number];

const TEXT = {
  fr: {
    console: 'Console de la coopérative', login: 'Connexion', password: 'Mot de passe', signIn: 'Se connecter', signOut: 'Se déconnecter', wrongPassword: 'Mot de passe incorrect.',
    tooMany: 'Trop d’essais : réessayez dans {n} minutes.', customers: 'Clients', orders: 'Commandes', digest: 'Bilan', flows: 'Flows et catalogue', search: 'Nom, téléphone ou texte',
    find: 'Chercher', waiting: 'Attend une personne', since: 'depuis', channel: 'Canal', lastSeen: 'Vu', noResults: 'Aucun résultat.', history: 'Conversation', reply: 'Répondre',
    send: 'Envoyer', giveBack: 'Rendre la main au bot', exportData: 'Exporter ses données (JSON)', ratings: 'Notes', phone: 'Téléphone', status: 'Statut', change: 'Changer',
    note: 'Note (facultative)', total: 'Total', all: 'Toutes', liveSince: 'Flows en service depuis', lastReload: 'Dernier rechargement', reloadOk: 'valide', reloadFailed: 'refusé : la version précédente reste en service',
    problems: 'Erreurs et avertissements', none: 'Rien pour l’instant.', staff: 'équipe', bot: 'bot', customer: 'client', sent: 'Message envoyé.', backToBot: 'Le bot a repris la conversation.',
    failedSend: 'Le canal a refusé le message : voir le journal du serveur.', otherChannels: 'Même téléphone sur d’autres canaux', statusChanged: 'Statut changé.',
    pending: 'en attente', confirmed: 'confirmée', shipped: 'expédiée', delivered: 'livrée', cancelled: 'annulée',
    reason_human: 'a demandé une personne', reason_complaint: 'réclamation', reason_repeated_fallbacks: 'le bot ne le comprend pas', reason_order: 'commande impossible dans le chat',
    pickup: 'retrait', cod: 'à la livraison', transfer: 'virement',
  },
  ar: {
    console: 'لوحة التعاونية', login: 'تسجيل الدخول', password: 'كلمة المرور', signIn: 'دخول', signOut: 'خروج', wrongPassword: 'كلمة المرور غير صحيحة.',
    tooMany: 'محاولات كثيرة: أعد المحاولة بعد {n} دقيقة.', customers: 'الزبائن', orders: 'الطلبات', digest: 'الحصيلة', flows: 'المحادثات والكتالوج', search: 'اسم أو هاتف أو نص',
    find: 'بحث', waiting: 'ينتظر شخصا', since: 'منذ', channel: 'القناة', lastSeen: 'آخر ظهور', noResults: 'لا نتائج.', history: 'المحادثة', reply: 'الرد',
    send: 'إرسال', giveBack: 'إرجاع المحادثة للبوت', exportData: 'تصدير بياناته (JSON)', ratings: 'التقييمات', phone: 'الهاتف', status: 'الحالة', change: 'تغيير',
    note: 'ملاحظة (اختيارية)', total: 'المجموع', all: 'الكل', liveSince: 'المحادثات تعمل منذ', lastReload: 'آخر إعادة تحميل', reloadOk: 'صالحة', reloadFailed: 'مرفوضة: تبقى النسخة السابقة',
    problems: 'الأخطاء والتنبيهات', none: 'لا شيء.', staff: 'الفريق', bot: 'البوت', customer: 'الزبون', sent: 'تم إرسال الرسالة.', backToBot: 'عاد البوت إلى المحادثة.',
    failedSend: 'رفضت القناة الرسالة: انظر سجل الخادم.', otherChannels: 'نفس الهاتف في قنوات أخرى', statusChanged: 'تم تغيير الحالة.',
    pending: 'في الانتظار', confirmed: 'مؤكد', shipped: 'تم الشحن', delivered: 'تم التسليم', cancelled: 'ملغى',
    reason_human: 'طلب شخصا', reason_complaint: 'شكاية', reason_repeated_fallbacks: 'البوت لا يفهمه', reason_order: 'تعذر الطلب في المحادثة',
    pickup: 'استلام', cod: 'عند الاستلام', transfer: 'تحويل',
  },
  en: {
    console: 'Cooperative console', login: 'Sign in', password: 'Password', signIn: 'Sign in', signOut: 'Sign out', wrongPassword: 'Wrong password.',
    tooMany: 'Too many attempts: try again in {n} minutes.', customers: 'Customers', orders: 'Orders', digest: 'Digest', flows: 'Flows and catalog', search: 'Name, phone or text',
    find: 'Search', waiting: 'Waiting for a person', since: 'since', channel: 'Channel', lastSeen: 'Seen', noResults: 'No results.', history: 'Conversation', reply: 'Reply',
    send: 'Send', giveBack: 'Give back to the bot', exportData: 'Export their data (JSON)', ratings: 'Ratings', phone: 'Phone', status: 'Status', change: 'Change',
    note: 'Note (optional)', total: 'Total', all: 'All', liveSince: 'Flows live since', lastReload: 'Last reload', reloadOk: 'valid', reloadFailed: 'refused: the previous version stays live',
    problems: 'Errors and warnings', none: 'None.', staff: 'staff', bot: 'bot', customer: 'customer', sent: 'Message sent.', backToBot: 'The bot is back in the conversation.',
    failedSend: 'The channel refused the message: see the server log.', otherChannels: 'Same phone on other channels', statusChanged: 'Status changed.',
    pending: 'pending', confirmed: 'confirmed', shipped: 'shipped', delivered: 'delivered', cancelled: 'cancelled',
    reason_human: 'asked for a person', reason_complaint: 'complaint', reason_repeated_fallbacks: 'the bot cannot follow them', reason_order: 'order not possible in the chat',
    pickup: 'pick-up', cod: 'cash on delivery', transfer: 'bank transfer',
  },
} as const;

export type ConsoleKey = keyof (typeof TEXT)['fr'];

/** A console word in a language. */
export function consoleText(lang: ConsoleLanguage, key: ConsoleKey, n?: number): string {
  return TEXT[lang][key].replace('{n}', String(n ?? ''));
}

/** A word for a code (a status, a handoff reason) when the console has one, else the code itself. */
export function consoleWord(lang: ConsoleLanguage, code: string): string {
  const words = TEXT[lang] as Record<string, string>;
  return words[code] ?? words[`reason_${code.split(':')[0]}`] ?? code;
}
