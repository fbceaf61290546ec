// whatsapp-web.js pulls in puppeteer, whose install would download Chrome; we use
// Debian's chromium instead (CHROMIUM_PATH), and this machine cannot fetch Chrome.
module.exports = { skipDownload: true };
