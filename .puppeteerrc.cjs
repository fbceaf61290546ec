// whatsapp-web.js pulls in puppeteer, whose install would download Chrome; Taawun uses
// the system's chromium instead (CHROME_PATH; the browser tests: CHROMIUM_PATH).
module.exports = { skipDownload: true };
