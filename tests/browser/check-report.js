// Opens flowlint HTML reports in Debian's chromium (playwright-core) and
// checks them against the JSON report of the same run.
//
//   node check-report.js CASES.json
//
// CASES.json: [{"name", "html", "json", "screenshot"?, "hostile"?}]. For
// each case: the page loads from file:// with no console error, no script
// error and no request but its own file; every finding of the JSON report
// is in the findings section; the matrix cells' counts add up to the JSON
// report's rule counts, and a click lists a cell's conversations; the
// conversations table filters and sorts; with "screenshot", a PNG is
// written and is not blank; with "hostile", no element came from a name.
// Prints one line per check and "N passed, N failed"; exit status 1 on a
// failure.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail === undefined ? "" : ": " + detail}`);
  }
}

const FINDINGS = ["blocked", "wrong_direction", "unexpected"];
// How the page labels a fix, per language ("lang" of a case; English
// when absent), as the JSON report's fix.text follows the language too.
const FIX = { en: "Fix: ", ja: "対処: " };
const key = (c) => `${c.client}|${c.server}|${c.server_port}|${c.protocol}`;

async function pixelVariety(browser, png) {
  const page = await browser.newPage();
  const data = png.toString("base64");
  const result = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = "data:image/png;base64," + b64;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, img.width, img.height).data;
    const counts = new Map();
    for (let i = 0; i < px.length; i += 4 * 7) {
      const k = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
      counts.set(k, (counts.get(k) || 0) + 1);
    }
    let top = 0;
    let total = 0;
    for (const n of counts.values()) {
      top = Math.max(top, n);
      total += n;
    }
    return { width: img.width, height: img.height, colours: counts.size, top: top / total };
  }, data);
  await page.close();
  return result;
}

async function run(browser, c) {
  const report = JSON.parse(fs.readFileSync(c.json, "utf8"));
  const url = "file://" + path.resolve(c.html);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: "load" });
  const n = c.name;

  check(`${n}: no console or script errors`, errors.length === 0, errors.join(" | "));
  check(`${n}: no network requests`, requests.length === 0, requests.join(" "));

  // Findings.
  const inFindings = new Set(
    await page.$$eval("#findings [data-key]", (els) => els.map((e) => e.getAttribute("data-key")))
  );
  const findings = report.conversations.filter((x) => FINDINGS.includes(x.verdict));
  const missing = findings.filter((x) => !inFindings.has(key(x))).map(key);
  check(`${n}: all ${findings.length} findings are in the DOM`, missing.length === 0, missing.join(", "));
  // Fixes: each blocked conversation's entry has one; an entry of one
  // conversation shows its fix's sentence and commands byte for byte.
  const fixes = report.conversations.filter((x) => x.fix);
  const entries = await page.$$eval("#findings article", (els) =>
    els.map((a) => ({
      keys: Array.from(a.querySelectorAll("tr[data-key]")).map((t) => t.getAttribute("data-key")),
      texts: Array.from(a.querySelectorAll(".fix p")).map((p) => p.textContent),
      commands: Array.from(a.querySelectorAll(".fix pre.cmd")).map((p) => p.textContent),
    }))
  );
  const bad = [];
  for (const x of fixes) {
    const e = entries.find((e) => e.keys.includes(key(x)));
    if (!e || e.texts.length === 0) {
      bad.push(key(x) + " has no fix");
      continue;
    }
    if (e.keys.length === 1) {
      if (!e.texts.includes(FIX[c.lang || "en"] + x.fix.text)) bad.push(key(x) + " sentence");
      for (const t of ["powershell", "netsh", "nft", "firewall_cmd"]) {
        if (x.fix[t] && !e.commands.includes(x.fix[t])) bad.push(key(x) + " " + t);
      }
    }
  }
  check(`${n}: every blocked conversation's fix is shown (${fixes.length})`, bad.length === 0, bad.join(", "));
  check(
    `${n}: every blocked conversation has a fix in the JSON report`,
    fixes.length === report.summary.verdicts.blocked
  );

  // Matrix counts against the JSON rule counts.
  const cellRules = await page.$$eval("td.cell li[data-rule]", (els) =>
    els.map((e) => ({
      rule: e.getAttribute("data-rule"),
      worked: Number(e.getAttribute("data-worked")),
      blocked: Number(e.getAttribute("data-blocked")),
      reversed: Number(e.getAttribute("data-reversed")),
    }))
  );
  const sums = new Map();
  for (const r of cellRules) {
    const s = sums.get(r.rule) || { worked: 0, blocked: 0, reversed: 0 };
    s.worked += r.worked;
    s.blocked += r.blocked;
    s.reversed += r.reversed;
    sums.set(r.rule, s);
  }
  const wrong = report.rules.filter((r) => {
    const s = sums.get(r.id) || { worked: 0, blocked: 0, reversed: 0 };
    return s.worked !== r.conversations - r.blocked || s.blocked !== r.blocked || s.reversed !== r.reversed;
  });
  check(
    `${n}: matrix counts equal the JSON rule counts (${report.rules.length} rules)`,
    wrong.length === 0,
    wrong.map((r) => `${r.id}: json ${r.conversations - r.blocked}/${r.blocked}/${r.reversed}, page ${JSON.stringify(sums.get(r.id))}`).join("; ")
  );
  const cells = await page.$$eval("td.cell", (els) =>
    els.map((e) => ({
      total: Number(e.getAttribute("data-total")),
      sum:
        Number(e.getAttribute("data-worked")) +
        Number(e.getAttribute("data-blocked")) +
        Number(e.getAttribute("data-reversed")),
    }))
  );
  check(`${n}: each cell's total is its counts' sum`, cells.every((x) => x.total === x.sum));
  const matched = report.conversations.filter(
    (x) => x.rule && ["expected", "blocked", "wrong_direction"].includes(x.verdict)
  ).length;
  check(
    `${n}: the cells hold every conversation a rule names (${matched})`,
    cells.reduce((a, x) => a + x.total, 0) === matched
  );
  const busy = await page.$("td.cell:not([data-total='0'])");
  if (busy) {
    const total = Number(await busy.getAttribute("data-total"));
    await busy.click();
    const panel = await busy.getAttribute("data-panel");
    const listed = await page.$$eval(`#${panel} ol.convs-shown li`, (els) => els.length);
    check(`${n}: a click on a cell lists its conversations`, listed === Math.min(total, 50), `${listed} of ${total}`);
  }

  // Conversations table: filter and sort.
  const rows = await page.$$eval("#conv-table tbody tr", (els) => els.length);
  check(
    `${n}: the table has every conversation (up to its limit)`,
    rows === Math.min(report.conversations.length, 2000),
    `${rows}`
  );
  const visible = () => page.$$eval("#conv-table tbody tr", (els) => els.filter((e) => !e.hidden).length);
  if (findings.length > 0) {
    const rule = findings.find((x) => x.rule);
    if (rule) {
      const needle = rule.rule;
      await page.fill("#conv-filter", needle);
      const want = report.conversations.filter((x) => (x.rule || "").toLowerCase().includes(needle.toLowerCase())).length;
      const got = await visible();
      const shown = await page.textContent("#conv-shown");
      check(`${n}: filtering by '${needle}' shows its ${want} conversations`, got === want && shown === String(want), `${got}, says ${shown}`);
      await page.fill("#conv-filter", "");
    }
    await page.selectOption("#conv-verdict", "blocked");
    const got = await visible();
    check(`${n}: the verdict filter shows the blocked ones`, got === report.summary.verdicts.blocked, `${got}`);
    await page.selectOption("#conv-verdict", "");
    check(`${n}: clearing the filters shows every row again`, (await visible()) === rows);
  }
  await page.click("#conv-table thead th:nth-child(4)");
  const ports = await page.$$eval("#conv-table tbody tr td:nth-child(4)", (els) => els.map((e) => Number(e.textContent)));
  check(`${n}: a click on 'port' sorts by port`, ports.every((p, i) => i === 0 || ports[i - 1] <= p));

  // A Japanese page: its language, the filter and the cards in Japanese,
  // and report.js showing the cell's Japanese words as they came.
  if (c.lang === "ja") {
    const ja = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      placeholder: document.getElementById("conv-filter").placeholder,
      card: document.querySelector('.card[data-verdict="blocked"]').textContent,
      option: document.querySelector('#conv-verdict option[value="blocked"]').textContent,
    }));
    check(`${n}: <html lang="ja">`, ja.lang === "ja", ja.lang);
    check(`${n}: the filter's placeholder is Japanese`, ja.placeholder.startsWith("絞り込み: "), ja.placeholder);
    check(`${n}: the blocked card is Japanese`, ja.card.includes("遮断の疑い") && ja.card.includes("ルールが許可しているのに"), ja.card);
    check(`${n}: the verdict filter's labels are Japanese`, ja.option === "遮断の疑い", ja.option);
    const cell = await page.$("td.cell.s-blocked");
    if (cell) {
      await cell.click();
      const shown = await page.textContent(`#${await cell.getAttribute("data-panel")} p`);
      check(`${n}: a clicked cell's title is Japanese`, /動いた \d+、遮断 \d+、逆方向 \d+/.test(shown), shown);
    } else {
      check(`${n}: a blocked matrix cell`, false);
    }
  }

  if (c.hostile) {
    const dom = await page.evaluate(() => ({
      scripts: document.querySelectorAll("script").length,
      imgs: document.querySelectorAll("img").length,
      handlers: Array.from(document.querySelectorAll("*")).filter((e) =>
        Array.from(e.attributes).some((a) => a.name.startsWith("on"))
      ).length,
      text: document.body.textContent,
      pwned: window.__pwned === 1,
    }));
    check(`${n}: hostile names added no script`, dom.scripts === 1, `${dom.scripts} scripts`);
    check(`${n}: hostile names added no element`, dom.imgs === 0 && dom.handlers === 0, `${dom.imgs} img, ${dom.handlers} handlers`);
    check(`${n}: no injected script ran`, !dom.pwned);
    check(
      `${n}: hostile names are shown as text`,
      c.hostile.every((h) => dom.text.includes(h)),
      c.hostile.filter((h) => !dom.text.includes(h)).join(", ")
    );
  }

  if (c.screenshot) {
    await page.selectOption("#conv-verdict", "");
    await page.fill("#conv-filter", "");
    await page.evaluate(() => window.scrollTo(0, 0));
    const png = await page.screenshot({ path: c.screenshot, fullPage: !!c.full_page });
    const v = await pixelVariety(browser, png);
    check(
      `${n}: the screenshot (${v.width}x${v.height}) is not blank`,
      v.colours > 64 && v.top < 0.95,
      `${v.colours} colours, the commonest ${Math.round(v.top * 100)} %`
    );
  }
  await context.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    for (const c of cases) {
      await run(browser, c);
    }
  } catch (e) {
    check("the browser run", false, String(e && e.stack ? e.stack : e));
  } finally {
    await browser.close();
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
