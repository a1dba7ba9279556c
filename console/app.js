// The operator console: campaigns, their progress, the team inbox, teams' sign-up pages, privacy
// requests.
// Every page asks the API, which decides what the signed-in person may see; nothing is kept
// between people (signing out reloads the page).

import { answerChallenge, ApiError, call, currentUser, freshen, loadConfig, signIn, signOut } from "./api.js";
import { formatDate, formatNumber, h } from "./dom.js";
import { funnel } from "./funnel.js";
import { language, LANGUAGES, setLanguage, t } from "./i18n.js";
import { qrCode } from "./qr.js";

const POLL_MS = 2000;
// Campaigns per page offered; the second is the default.
const PAGE_SIZES = [20, 50, 100];
const STATUSES = ["draft", "scheduled", "launching", "sending", "paused", "completed", "cancelled"];
const CLASSES = ["REPLY", "OPT_OUT", "OPT_OUT_REVIEW", "OPT_IN", "HELP", "CONTACT", "SENSITIVE"];
// A notice's texts, in the order a person reads them (models.api.notices.NoticeText).
const NOTICE_FIELDS = ["organisation", "purpose", "frequency", "retention", "rights", "stop"];
// The longer texts get a text area.
const NOTICE_LONG = new Set(["purpose", "rights"]);
const NOTICE_LIMITS = { organisation: 300, purpose: 1000, frequency: 300, retention: 500, rights: 2000, stop: 300 };
const ACTIONS = {
  draft: ["launch", "cancel"],
  scheduled: ["cancel"],
  launching: ["cancel"],
  sending: ["pause", "cancel"],
  paused: ["resume", "cancel"],
};

const main = document.getElementById("main");
let leave = () => {};
// The last audience upload's result, shown once on the campaign's page.
let uploaded = null;

// ------------------------------------------------------------------ small parts
function alertBox() {
  return h("div", { class: "alert", role: "alert", hidden: true });
}

function showError(box, error) {
  box.hidden = false;
  if (!(error instanceof ApiError)) {
    box.replaceChildren(t("error.network"));
    return;
  }
  const problem = error.problem || {};
  const lines = [h("strong", {}, error.status === 404 ? t("error.notFound") : problem.title || t("error.generic"))];
  if (problem.detail) lines.push(h("span", {}, ` ${problem.detail}`));
  const fields = (problem.errors || []).map((each) =>
    h("li", {}, `${each.field || (each.loc || []).join(".")}: ${each.reason || each.msg || ""}`),
  );
  if (fields.length) lines.push(h("ul", {}, fields));
  box.replaceChildren(...lines);
}

function page(title, ...content) {
  const heading = h("h1", { tabindex: "-1" }, title);
  main.replaceChildren(heading, ...content.filter(Boolean));
  heading.focus();
  document.title = `${title} · Cloison`;
}

function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([optionValue, label]) =>
      h("option", { value: optionValue, selected: optionValue === value }, label),
    ),
  );
}

function statusBadge(status) {
  return h("span", { class: `badge badge-${status}`, "data-status": status }, t(`status.${status}`));
}

function table(headers, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  // Narrow screens show each row as a card: every cell says which column it is.
  for (const row of rows) {
    [...row.children].forEach((cell, index) => {
      if (headers[index]) cell.setAttribute("data-label", headers[index]);
    });
  }
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows),
    ),
  );
}

function dl(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .map(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]),
  );
}

function hashParams() {
  return new URLSearchParams((location.hash.split("?")[1] || ""));
}

function go(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, value]) => value)).toString();
  location.hash = query ? `${path}?${query}` : path;
}

// ------------------------------------------------------------------ header
function renderHeader(user) {
  const nav = document.getElementById("nav");
  const links = [];
  if (user) {
    if (user.teams.length) {
      links.push(["#/campaigns", t("nav.campaigns")], ["#/inbox", t("nav.inbox")], ["#/signup", t("nav.signup")]);
    }
    if (user.teams.length || user.roles.includes("privacy_officer")) {
      links.push(["#/review", t("nav.review")]);
    }
    if (user.roles.includes("privacy_officer")) links.push(["#/privacy", t("nav.privacy")]);
  }
  const here = location.hash.split("?")[0];
  nav.replaceChildren(
    h(
      "ul",
      {},
      links.map(([href, label]) =>
        h(
          "li",
          {},
          h("a", { href, "aria-current": here.startsWith(href) ? "page" : undefined }, label),
        ),
      ),
    ),
  );
  const who = document.getElementById("who");
  who.replaceChildren(
    ...(user
      ? [
          h("span", { class: "username" }, user.username),
          h("button", { type: "button", class: "link", onclick: leaveSession }, t("nav.signOut")),
        ]
      : []),
  );
  const chooser = document.getElementById("language");
  chooser.replaceChildren(
    ...LANGUAGES.map(([code, name]) =>
      h("option", { value: code, lang: code, selected: code === language() }, name),
    ),
  );
  document.getElementById("language-label").textContent = t("nav.language");
  document.getElementById("skip").textContent = t("nav.skip");
}

async function leaveSession() {
  await signOut();
  // One full load, without the route: setting the hash first would be a second navigation
  // (same document) that a reader of the page could see before the reload.
  location.replace(location.pathname + location.search);
}

// ------------------------------------------------------------------ sign-in
// Why Cognito refused, in words for the person: a wrong password and an unknown user read alike.
const REFUSALS = {
  InvalidPasswordException: "login.passwordRefused",
  CodeMismatchException: "login.codeRefused",
  ExpiredCodeException: "login.codeRefused",
  UnsupportedChallenge: "login.unsupported",
  PasswordResetRequiredException: "login.resetRequired",
  PasswordsDiffer: "login.passwordsDiffer",
};

function refusal(failure, fallback) {
  return t(REFUSALS[failure instanceof ApiError ? failure.problem.type : ""] || fallback);
}

// A sign-in form: `fields` are its inputs, `submitted` returns the next step (or throws). A
// challenge's form can start again from the user name: its session lasts three minutes.
function signInStep(title, fields, submitLabel, submitted, { failed = "login.stepFailed", restart = true } = {}) {
  const error = alertBox();
  const submit = h("button", { type: "submit" }, submitLabel);
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        error.hidden = true;
        try {
          await next(await submitted());
        } catch (failure) {
          error.hidden = false;
          error.replaceChildren(failure instanceof ApiError ? refusal(failure, failed) : t("error.network"));
          submit.disabled = false;
          form.querySelector('input[type="password"], input')?.focus();
        }
      },
    },
    error,
    ...fields,
    h(
      "div",
      { class: "actions" },
      submit,
      restart ? h("button", { type: "button", class: "secondary", onclick: login }, t("login.restart")) : null,
    ),
  );
  page(title, form);
}

// Where a sign-in step leads: the person's first page, or the challenge Cognito asks for.
async function next(step) {
  if (step.challenge?.name === "NEW_PASSWORD_REQUIRED") return newPassword(step.challenge);
  if (step.challenge?.name === "SOFTWARE_TOKEN_MFA") return mfaCode(step.challenge);
  const target = defaultRoute(step.user);
  if (location.hash === target) await render();
  else location.hash = target;
}

function login() {
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  signInStep(
    t("login.title"),
    [field(t("login.username"), username), field(t("login.password"), password)],
    t("login.submit"),
    () => signIn(username.value.trim(), password.value),
    { failed: "login.failed", restart: false },
  );
}

function newPassword(challenge) {
  const attributes = { type: "password", autocomplete: "new-password", required: true, minlength: 12 };
  const chosen = h("input", { name: "new-password", ...attributes });
  const again = h("input", { name: "new-password-again", ...attributes });
  signInStep(
    t("login.newPasswordTitle"),
    [
      h("p", { class: "hint" }, t("login.newPasswordIntro")),
      field(t("login.newPassword"), chosen, t("login.newPasswordHint")),
      field(t("login.newPasswordAgain"), again),
    ],
    t("login.newPasswordSubmit"),
    () => {
      if (chosen.value !== again.value) throw new ApiError(400, { type: "PasswordsDiffer" });
      return answerChallenge(challenge, { NEW_PASSWORD: chosen.value });
    },
  );
}

function mfaCode(challenge) {
  const code = h("input", {
    name: "code",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    pattern: "[0-9]{6}",
    maxlength: 6,
    required: true,
  });
  signInStep(
    t("login.codeTitle"),
    [field(t("login.code"), code, t("login.codeHint"))],
    t("login.codeSubmit"),
    () => answerChallenge(challenge, { SOFTWARE_TOKEN_MFA_CODE: code.value.trim() }),
  );
}

function defaultRoute(user) {
  if (user.teams.length) return "#/campaigns";
  return user.roles.includes("privacy_officer") ? "#/privacy" : "#/none";
}

// ------------------------------------------------------------------ campaigns
async function campaigns(user) {
  const params = hashParams();
  const error = alertBox();
  const team = select(
    "team",
    [["", t("filter.allTeams")], ...user.teams.map((name) => [name, name])],
    params.get("team") || "",
  );
  const status = select(
    "status",
    [["", t("filter.allStatuses")], ...STATUSES.map((name) => [name, t(`status.${name}`)])],
    params.get("status") || "",
  );
  const asked = Number.parseInt(params.get("limit"), 10);
  const perPage = asked >= 1 && asked <= 200 ? asked : PAGE_SIZES[1];
  const limit = select(
    "limit",
    [...new Set([...PAGE_SIZES, perPage])].sort((a, b) => a - b).map((size) => [String(size), String(size)]),
    String(perPage),
  );
  const filters = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        go("#/campaigns", { team: team.value, status: status.value, limit: limit.value });
      },
    },
    field(t("filter.team"), team),
    field(t("filter.status"), status),
    field(t("filter.perPage"), limit),
    h("button", { type: "submit", class: "secondary" }, t("filter.apply")),
  );
  const list = h("div", { "aria-live": "polite" }, h("p", {}, t("loading")));
  const more = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => load() }, t("campaigns.more"));
  page(
    t("campaigns.title"),
    h("p", {}, h("a", { href: "#/campaigns/new", class: "button" }, t("campaigns.new"))),
    filters,
    error,
    list,
    h("p", {}, more),
  );
  const rows = [];
  let cursor;

  // The next page, added below the rows already shown; the first new row gets the focus.
  async function load() {
    more.disabled = true;
    try {
      const answer = await call("GET", "/campaigns", {
        query: { team: team.value, status: status.value, limit: limit.value, cursor },
      });
      const added = answer.items.map(campaignRow);
      rows.push(...added);
      list.replaceChildren(
        table(
          [t("campaign.name"), t("campaign.team"), t("campaign.status"), t("campaign.recipients"), t("campaign.created")],
          rows,
          t("campaigns.empty"),
        ),
      );
      cursor = answer.next_cursor;
      more.hidden = !cursor;
      if (rows.length > added.length) added[0]?.querySelector("a").focus();
    } catch (failure) {
      if (!rows.length) list.replaceChildren();
      showError(error, failure);
    }
    more.disabled = false;
  }

  await load();
}

function campaignRow(item) {
  return h(
    "tr",
    { "data-campaign": item.id },
    h("td", {}, h("a", { href: `#/campaigns/${item.id}` }, item.name)),
    h("td", {}, item.team),
    h("td", {}, statusBadge(item.status)),
    h("td", { class: "number" }, formatNumber(item.recipients, language())),
    h("td", {}, formatDate(item.created_at, language())),
  );
}

// The sender is one of the selected team's profiles, asked for again when the team changes; the
// form goes only once one is chosen (not while they load, nor for a team that has none).
async function newCampaign(user) {
  const error = alertBox();
  const team = select("team", user.teams.map((name) => [name, name]), user.teams[0]);
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const sender = h("select", { name: "sender", required: true, disabled: true });
  const noSender = h("p", { class: "notice", role: "status", hidden: true });
  const senderField = field(t("campaign.sender"), sender, t("create.senderHint"));
  senderField.append(noSender);
  const kind = select("kind", [["marketing", t("kind.marketing")], ["transactional", t("kind.transactional")]], "marketing");
  const body = h("textarea", { name: "body", required: true, rows: 4, maxlength: 1600 });
  const recipients = h("textarea", { name: "recipients", rows: 5, spellcheck: "false", placeholder: "phone,first_name\n+33612345678,Léa" });
  const file = h("input", { name: "file", type: "file", accept: ".csv,text/csv" });
  const submit = h("button", { type: "submit" }, t("create.submit"));
  let creating = false;
  const ready = () => {
    submit.disabled = creating || sender.disabled || !sender.value;
  };
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        if (submit.disabled) return;
        creating = true;
        ready();
        error.hidden = true;
        try {
          const created = await call("POST", "/campaigns", {
            json: {
              team: team.value,
              name: name.value,
              sender: sender.value,
              kind: kind.value,
              body: body.value,
            },
          });
          const csv = file.files.length ? file.files[0] : recipients.value.trim();
          uploaded = null;
          if (csv) {
            uploaded = await call("POST", `/campaigns/${created.id}/audience`, {
              body: csv,
              contentType: "text/csv",
            });
          }
          go(`#/campaigns/${created.id}`);
        } catch (failure) {
          showError(error, failure);
          creating = false;
          ready();
        }
      },
    },
    error,
    field(t("filter.team"), team),
    field(t("campaign.name"), name),
    senderField,
    field(t("campaign.kind"), kind, t("create.kindHint")),
    field(t("campaign.body"), body, t("create.bodyHint")),
    h(
      "fieldset",
      {},
      h("legend", {}, t("create.audience")),
      field(t("create.recipients"), recipients, t("create.recipientsHint")),
      field(t("create.file"), file),
    ),
    submit,
  );

  // The profile last chosen stays chosen if the next team has one of that name.
  let preferred = "";
  sender.addEventListener("change", () => {
    preferred = sender.value;
  });
  // Only the answer for the team selected now is shown: an earlier question may be answered last.
  let asked = 0;
  async function loadSenders() {
    const question = ++asked;
    sender.disabled = true;
    sender.replaceChildren(h("option", { value: "" }, t("loading")));
    noSender.hidden = true;
    ready();
    let profiles;
    try {
      ({ items: profiles } = await call("GET", `/teams/${encodeURIComponent(team.value)}/senders`));
    } catch (failure) {
      if (question !== asked) return;
      sender.replaceChildren();
      showError(error, failure);
      return;
    }
    if (question !== asked) return;
    if (!profiles.length) {
      sender.replaceChildren(h("option", { value: "" }, t("create.noSenderOption")));
      noSender.replaceChildren(t("create.noSenders", { team: team.value }));
      noSender.hidden = false;
      return;
    }
    sender.replaceChildren(
      ...profiles.map((profile) =>
        h(
          "option",
          { value: profile.name, selected: profile.name === preferred },
          t("create.senderOption", { name: profile.name, sender: profile.sender_id }),
        ),
      ),
    );
    sender.disabled = false;
    ready();
  }
  team.addEventListener("change", () => {
    error.hidden = true;
    loadSenders();
  });

  page(t("create.title"), form);
  await loadSenders();
}

function uploadReport() {
  if (!uploaded) return null;
  const report = uploaded;
  uploaded = null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, t("upload.title")),
    h("p", {}, t("upload.summary", { accepted: report.accepted, rejected: report.rejected_count })),
    report.rejected.length
      ? table(
          [t("upload.row"), t("upload.field"), t("upload.reason")],
          report.rejected.map((row) =>
            h("tr", {}, h("td", { class: "number" }, row.row), h("td", {}, row.field), h("td", {}, row.reason)),
          ),
          "",
        )
      : null,
  );
}

// The final text, the characters that forced UCS-2 marked.
function markedText(text, nonGsm) {
  const forcing = new Set(nonGsm);
  const parts = [];
  let plain = "";
  for (const character of text) {
    if (forcing.has(character)) {
      if (plain) parts.push(plain);
      plain = "";
      parts.push(h("mark", { title: t("preview.forcing") }, character));
    } else {
      plain += character;
    }
  }
  if (plain) parts.push(plain);
  return h("p", { class: "sms-text" }, parts);
}

// What a campaign is sent from: the stack's shared number, or the team's own numbers (or its
// sender IDs, which nobody can answer).
function originationText(origination) {
  if (origination.identity === "shared") return t("preview.from_shared");
  if (origination.numbers.length) return t("preview.from_own", { numbers: origination.numbers.join(", ") });
  return t("preview.from_own_ids");
}

function previewSection(preview) {
  const counts = preview.counts;
  return h(
    "section",
    { class: "card", "aria-labelledby": "preview-title" },
    h("h2", { id: "preview-title" }, t("preview.title")),
    markedText(preview.text, preview.non_gsm),
    preview.non_gsm.length
      ? h("p", { class: "hint" }, t("preview.ucs2", { characters: preview.non_gsm.join(" ") }))
      : null,
    dl([
      [t("preview.encoding"), preview.encoding],
      [t("preview.segments"), String(preview.segments)],
      [t("preview.cost"), formatNumber(preview.estimated_cost, language(), { style: "currency", currency: "EUR" })],
      [t("preview.valid"), String(counts.valid)],
      [t("status.deferred"), String(counts.deferred)],
      [t("status.suppressed"), String(counts.suppressed)],
      [t("status.no_consent"), String(counts.no_consent)],
      [t("status.capped"), String(counts.capped)],
      [t("status.invalid"), String(counts.invalid)],
      [t("preview.ends"), formatDate(preview.sending.ends_at, language())],
      [t("preview.from"), originationText(preview.origination)],
      [t("preview.replies"), t(preview.origination.receives_replies ? "preview.replies_yes" : "preview.replies_no")],
    ]),
    preview.warnings.length
      ? h("ul", { class: "warnings" }, preview.warnings.map((warning) => h("li", {}, warning.detail)))
      : null,
  );
}

async function campaignDetail(user, campaignId) {
  const error = alertBox();
  const facts = h("div");
  const actions = h("div", { class: "actions" });
  const progress = h("section", { class: "card", "aria-labelledby": "progress-title" });
  const preview = h("div");
  page(t("loading"), error);
  let campaign;
  try {
    campaign = await call("GET", `/campaigns/${campaignId}`);
  } catch (failure) {
    page(t("campaign.title"), error);
    showError(error, failure);
    return;
  }
  page(
    campaign.name,
    h("p", {}, h("a", { href: "#/campaigns" }, t("campaign.back"))),
    error,
    uploadReport(),
    facts,
    actions,
    progress,
    preview,
    h("p", {}, h("a", { href: `#/inbox?campaign=${campaign.id}` }, t("campaign.replies"))),
  );

  function drawFacts() {
    facts.replaceChildren(
      dl([
        [t("campaign.team"), campaign.team],
        [t("campaign.status"), statusBadge(campaign.status)],
        [t("campaign.kind"), t(`kind.${campaign.kind}`)],
        [t("campaign.sender"), campaign.sender],
        [t("campaign.recipients"), formatNumber(campaign.recipients, language())],
        [t("campaign.launchAt"), formatDate(campaign.launch_at, language())],
        [t("campaign.body"), h("span", { class: "sms-text" }, campaign.body)],
      ]),
    );
    drawActions();
  }

  async function act(action, json) {
    error.hidden = true;
    try {
      campaign = await call("POST", `/campaigns/${campaign.id}/${action}`, { json });
      drawFacts();
      await refresh();
      actions.querySelector("button")?.focus();
    } catch (failure) {
      showError(error, failure);
    }
  }

  function drawActions() {
    const allowed = ACTIONS[campaign.status] || [];
    const buttons = [];
    if (allowed.includes("launch")) {
      buttons.push(h("button", { type: "button", onclick: () => act("launch", {}) }, t("action.launch")));
      const at = h("input", { type: "datetime-local", name: "at", required: true });
      buttons.push(
        h(
          "form",
          {
            class: "inline",
            onsubmit: (event) => {
              event.preventDefault();
              act("launch", { at: new Date(at.value).toISOString() });
            },
          },
          field(t("action.at"), at),
          h("button", { type: "submit", class: "secondary" }, t("action.schedule")),
        ),
      );
    }
    if (allowed.includes("pause")) buttons.push(h("button", { type: "button", onclick: () => act("pause") }, t("action.pause")));
    if (allowed.includes("resume")) buttons.push(h("button", { type: "button", onclick: () => act("resume") }, t("action.resume")));
    if (allowed.includes("cancel")) {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: () => {
              if (window.confirm(t("action.cancelConfirm"))) act("cancel");
            },
          },
          t("action.cancel"),
        ),
      );
    }
    actions.replaceChildren(...buttons);
  }

  async function refresh() {
    let stats;
    try {
      stats = await call("GET", `/campaigns/${campaign.id}/stats`);
    } catch (failure) {
      showError(error, failure);
      return;
    }
    if (stats.status !== campaign.status) {
      campaign = { ...campaign, status: stats.status };
      drawFacts();
    }
    const counts = stats.counts;
    // Settled on the send side: each recipient once (sent and delivered are later stages of
    // those queued, not more recipients).
    const done = ["queued", "rejected", "suppressed", "no_consent", "capped", "invalid", "in_doubt"]
      .reduce((sum, status) => sum + (counts[status] || 0), 0);
    progress.replaceChildren(
      h("h2", { id: "progress-title" }, t("campaign.progress")),
      h(
        "p",
        {},
        h("progress", { max: Math.max(stats.recipients, 1), value: Math.min(done, stats.recipients), "aria-label": t("campaign.progress") }),
        " ",
        t("campaign.processed", { done, total: stats.recipients }),
      ),
      funnel(counts, stats.recipients),
      dl([
        [t("campaign.deliverability"), stats.deliverability === null ? "—" : formatNumber(stats.deliverability, language(), { style: "percent", maximumFractionDigits: 1 })],
        [t("campaign.segments"), String(stats.segments)],
        [t("campaign.cost"), formatNumber(stats.cost, language(), { style: "currency", currency: "EUR" })],
      ]),
    );
  }

  drawFacts();
  await refresh();
  const timer = setInterval(() => {
    if (!document.hidden && campaign.status !== "draft") refresh();
  }, POLL_MS);
  leave = () => clearInterval(timer);
  try {
    preview.replaceChildren(previewSection(await call("GET", `/campaigns/${campaign.id}/preview`)));
  } catch (failure) {
    showError(error, failure);
  }
}

// ------------------------------------------------------------------ inbox
function replyFlags(reply) {
  return [
    reply.sensitive ? h("span", { class: "badge badge-sensitive" }, t("reply.sensitive")) : null,
    reply.review === "pending" ? h("span", { class: "badge badge-paused" }, t("reply.pending")) : null,
  ];
}

async function campaignNames() {
  try {
    const { items } = await call("GET", "/campaigns");
    return new Map(items.map((item) => [item.id, item.name]));
  } catch {
    return new Map();
  }
}

async function inbox(user) {
  const params = hashParams();
  const error = alertBox();
  const list = h("div", { "aria-live": "polite" }, h("p", {}, t("loading")));
  const opened = h("section", { class: "card", "aria-labelledby": "reply-title", hidden: true });
  const names = await campaignNames();
  const campaign = select(
    "campaign",
    [["", t("filter.allCampaigns")], ...[...names].map(([id, name]) => [id, name])],
    params.get("campaign") || "",
  );
  if (params.get("campaign") && !names.has(params.get("campaign"))) {
    campaign.append(h("option", { value: params.get("campaign"), selected: true }, params.get("campaign")));
  }
  const replyClass = select(
    "class",
    [["", t("filter.allClasses")], ...CLASSES.map((name) => [name, t(`class.${name}`)])],
    params.get("class") || "",
  );
  const filters = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        go("#/inbox", { campaign: campaign.value, class: replyClass.value });
      },
    },
    field(t("filter.campaign"), campaign),
    field(t("filter.class"), replyClass),
    h("button", { type: "submit", class: "secondary" }, t("filter.apply")),
  );
  page(t("inbox.title"), h("p", { class: "hint" }, t("inbox.intro")), filters, error, list, opened);

  function open(reply) {
    const confirm = h("button", {
      type: "button",
      onclick: async () => {
        confirm.disabled = true;
        try {
          const detail = await call("GET", `/replies/${reply.id}`);
          opened.replaceChildren(
            h("h2", { id: "reply-title", tabindex: "-1" }, t("reply.title")),
            dl([
              [t("reply.received"), formatDate(detail.received_at, language())],
              [t("reply.class"), t(`class.${detail.reply_class}`)],
            ]),
            h("pre", { class: "reply-body", "data-reply": detail.id }, detail.body),
            h("button", { type: "button", class: "secondary", onclick: () => { opened.hidden = true; } }, t("reply.close")),
          );
          opened.querySelector("h2").focus();
        } catch (failure) {
          showError(error, failure);
        }
      },
    }, t("reply.openAudited"));
    opened.hidden = false;
    opened.replaceChildren(
      h("h2", { id: "reply-title", tabindex: "-1" }, t("reply.title")),
      h("p", { class: "notice" }, t("reply.auditNotice")),
      h("div", { class: "actions" }, confirm, h("button", { type: "button", class: "secondary", onclick: () => { opened.hidden = true; } }, t("reply.close"))),
    );
    opened.querySelector("h2").focus();
  }

  try {
    const { items } = await call("GET", "/replies", {
      query: { campaign: campaign.value, class: replyClass.value },
    });
    list.replaceChildren(
      table(
        [t("reply.received"), t("campaign.team"), t("reply.campaign"), t("reply.class"), t("reply.flags"), ""],
        items.map((reply) =>
          h(
            "tr",
            { "data-reply": reply.id, class: reply.sensitive ? "sensitive" : undefined },
            h("td", {}, formatDate(reply.received_at, language())),
            h("td", {}, reply.team),
            h("td", {}, reply.campaign_id ? names.get(reply.campaign_id) || reply.campaign_id : "—"),
            h("td", {}, t(`class.${reply.reply_class}`)),
            h("td", {}, replyFlags(reply)),
            h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => open(reply) }, t("reply.open"))),
          ),
        ),
        t("inbox.empty"),
      ),
    );
  } catch (failure) {
    list.replaceChildren();
    showError(error, failure);
  }
}

// ------------------------------------------------------------------ review queue
async function review(user) {
  const error = alertBox();
  const done = h("p", { class: "notice", role: "status" });
  const list = h("div", {}, h("p", {}, t("loading")));
  page(t("review.title"), h("p", { class: "hint" }, t("review.intro")), error, done, list);
  const officer = user.roles.includes("privacy_officer");

  async function decide(reply, decision, phone) {
    error.hidden = true;
    try {
      await call("POST", `/replies/${reply.id}/review`, { json: phone ? { decision, phone } : { decision } });
      done.textContent = t(`review.${decision}d`);
      await load();
    } catch (failure) {
      showError(error, failure);
    }
  }

  async function load() {
    const { items } = await call("GET", "/replies", { query: { review: "pending" } });
    list.replaceChildren(
      table(
        [t("reply.received"), t("campaign.team"), t("reply.class"), t("reply.flags"), ""],
        items.map((reply) => {
          const phone = h("input", { name: "phone", type: "tel", autocomplete: "off", required: true });
          return h(
            "tr",
            { "data-reply": reply.id },
            h("td", {}, formatDate(reply.received_at, language())),
            h("td", {}, reply.team),
            h("td", {}, t(`class.${reply.reply_class}`)),
            h("td", {}, replyFlags(reply)),
            h(
              "td",
              { class: "actions" },
              h("button", { type: "button", onclick: () => decide(reply, "confirm") }, t("review.confirm")),
              officer
                ? h(
                    "form",
                    {
                      class: "inline",
                      onsubmit: (event) => {
                        event.preventDefault();
                        decide(reply, "lift", phone.value);
                      },
                    },
                    field(t("review.phone"), phone),
                    h("button", { type: "submit", class: "secondary" }, t("review.lift")),
                  )
                : null,
            ),
          );
        }),
        t("review.empty"),
      ),
    );
  }

  try {
    await load();
  } catch (failure) {
    list.replaceChildren();
    showError(error, failure);
  }
}

// ------------------------------------------------------------------ sign-up page
// Where a team's public sign-up page is: beside the console, on its origin.
function signupUrl(team) {
  const url = new URL("signup.html", location.href);
  url.search = new URLSearchParams({ team }).toString();
  return url.href;
}

// What the API answers, or null for a 404 (no notice yet); any other failure is shown.
async function orNothing(request, error) {
  try {
    return await request;
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 404) return null;
    showError(error, failure);
    return undefined;
  }
}

function noticeTexts(notice) {
  return ["fr", "en"]
    .filter((code) => notice[code])
    .map((code) => [
      h("h3", {}, t(`notice.${code}`)),
      h(
        "dl",
        { class: "facts", lang: code },
        NOTICE_FIELDS.map((name) => [h("dt", {}, t(`notice.${name}`)), h("dd", {}, notice[code][name])]),
      ),
    ]);
}

// Administrators put a new version; the form starts from the latest texts.
function noticeForm(team, latest, done) {
  const error = alertBox();
  const controls = {};
  const group = (code, legend, required) => {
    controls[code] = {};
    return h(
      "fieldset",
      {},
      h("legend", {}, legend),
      NOTICE_FIELDS.map((name) => {
        const attributes = { name: `${code}-${name}`, required, maxlength: NOTICE_LIMITS[name], lang: code };
        const control = NOTICE_LONG.has(name) ? h("textarea", { ...attributes, rows: 3 }) : h("input", attributes);
        control.value = latest?.[code]?.[name] || "";
        controls[code][name] = control;
        return field(t(`notice.${name}`), control);
      }),
    );
  };
  const submit = h("button", { type: "submit" }, t("notice.submit"));
  const texts = (code) => Object.fromEntries(NOTICE_FIELDS.map((name) => [name, controls[code][name].value.trim()]));
  const form = h(
    "form",
    {
      class: "card notice-form",
      "aria-labelledby": "notice-put-title",
      onsubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        submit.disabled = true;
        const english = texts("en");
        const body = { fr: texts("fr") };
        if (Object.values(english).some(Boolean)) body.en = english;
        try {
          const put = await call("PUT", `/teams/${encodeURIComponent(team)}/notice`, { json: body });
          await done(t("notice.saved", { version: put.version }));
        } catch (failure) {
          showError(error, failure);
          submit.disabled = false;
        }
      },
    },
    h("h2", { id: "notice-put-title" }, t("notice.put")),
    h("p", { class: "hint" }, t("notice.putIntro")),
    error,
    group("fr", t("notice.frLegend"), true),
    group("en", t("notice.enLegend"), false),
    submit,
  );
  return form;
}

async function signups(user) {
  const params = hashParams();
  const team = user.teams.includes(params.get("team")) ? params.get("team") : user.teams[0];
  if (!team) {
    location.hash = defaultRoute(user);
    return;
  }
  const error = alertBox();
  const saved = h("p", { class: "notice", role: "status", hidden: true });
  const chooser = select("team", user.teams.map((name) => [name, name]), team);
  chooser.addEventListener("change", () => go("#/signup", { team: chooser.value }));
  const body = h("div", { "aria-live": "polite" }, h("p", {}, t("loading")));
  page(
    t("signup.title"),
    h("p", { class: "hint" }, t("signup.intro")),
    user.teams.length > 1 ? h("div", { class: "filters" }, field(t("filter.team"), chooser)) : null,
    error,
    saved,
    body,
  );

  async function load() {
    const path = `/teams/${encodeURIComponent(team)}`;
    const [latest, versions, status] = await Promise.all([
      orNothing(call("GET", `${path}/notice`), error),
      orNothing(call("GET", `${path}/notice/versions`), error),
      orNothing(call("GET", `${path}/signup`), error),
    ]);
    const url = signupUrl(team);
    const link = h(
      "section",
      { class: "card", "aria-labelledby": "signup-page-title" },
      h("h2", { id: "signup-page-title" }, t("signup.page")),
      latest === null ? h("p", { class: "notice" }, t("signup.noNotice", { team })) : null,
      h("p", {}, h("a", { href: url, class: "signup-link", target: "_blank", rel: "noopener" }, url)),
      h("figure", { class: "qr-figure" }, qrCode(url, t("signup.qr", { url })), h("figcaption", { class: "hint" }, t("signup.qrCaption"))),
      h("p", { class: "hint" }, t("signup.pageHint")),
    );
    const counts = status
      ? h(
          "section",
          { class: "card", "aria-labelledby": "signup-counts-title", "data-signup-status": team },
          h("h2", { id: "signup-counts-title" }, t("signup.confirmations")),
          dl([
            [t("signup.pending"), h("span", { "data-count": "pending" }, formatNumber(status.pending, language()))],
            [
              t("signup.budget", { day: formatDay(status.budget.day) }),
              h(
                "span",
                { "data-count": "budget" },
                h("progress", { max: status.budget.total, value: Math.min(status.budget.used, status.budget.total), "aria-hidden": "true" }),
                " ",
                t("signup.budgetUsed", {
                  used: formatNumber(status.budget.used, language()),
                  total: formatNumber(status.budget.total, language()),
                }),
              ),
            ],
          ]),
          h("p", { class: "hint" }, t("signup.budgetHint")),
        )
      : null;
    const notice = h(
      "section",
      { class: "card", "aria-labelledby": "notice-title" },
      h("h2", { id: "notice-title" }, t("notice.title")),
      latest
        ? [
            h("p", { "data-notice-version": latest.version }, t("notice.latest", { version: latest.version, at: formatDate(latest.created_at, language()), by: latest.created_by })),
            noticeTexts(latest),
          ]
        : null,
      versions?.items.length
        ? [
            h("h3", {}, t("notice.versions")),
            table(
              [t("notice.version"), t("notice.hash"), t("notice.at"), t("notice.by")],
              versions.items.map((item) =>
                h(
                  "tr",
                  { "data-version": item.version },
                  h("td", { class: "number" }, String(item.version)),
                  h("td", {}, h("code", { title: item.hash }, `${item.hash.slice(0, 12)}…`)),
                  h("td", {}, formatDate(item.created_at, language())),
                  h("td", {}, item.created_by),
                ),
              ),
              "",
            ),
          ]
        : null,
    );
    const admin = user.roles.includes("admin")
      ? noticeForm(team, latest, async (message) => {
          saved.textContent = message;
          saved.hidden = false;
          await load();
        })
      : null;
    body.replaceChildren(link, counts, notice, admin);
  }

  await load();
}

// A UTC day (YYYY-MM-DD) as the reader writes dates.
function formatDay(day) {
  return new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${day}T00:00:00Z`));
}

// ------------------------------------------------------------------ privacy officer
// The codes the audit trail keeps as a reason (models.api.AuditReason).
const REASON_CODES = ["person_asked", "complaint", "legal_obligation", "data_error", "team_policy", "other"];

function receiptView(receipt) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "receipt-title", "data-receipt": receipt.id },
    h("h2", { id: "receipt-title", tabindex: "-1" }, t("privacy.receipt")),
    dl([
      [t("privacy.id"), receipt.id],
      [t("privacy.kind"), t(`privacy.${receipt.kind}`)],
      [t("privacy.phone"), receipt.phone],
      [t("privacy.reasonCode"), REASON_CODES.includes(receipt.reason) ? t(`reason.${receipt.reason}`) : receipt.reason],
      [t("privacy.by"), receipt.requested_by],
      [t("privacy.at"), formatDate(receipt.completed_at, language())],
      ...Object.entries(receipt.counts).map(([name, count]) => [t("privacy.count", { name }), String(count)]),
      [t("privacy.attributes"), receipt.attributes.join(", ")],
      [t("privacy.suppression"), receipt.suppression ? t(`privacy.suppression.${receipt.suppression}`) : null],
    ]),
    receipt.export
      ? [h("h3", {}, t("privacy.export")), h("pre", { class: "export" }, JSON.stringify(receipt.export, null, 2))]
      : null,
  );
}

function privacy(user) {
  const error = alertBox();
  const result = h("div");
  const kind = select(
    "kind",
    ["access", "rectification", "erasure"].map((name) => [name, t(`privacy.${name}`)]),
    "access",
  );
  const phone = h("input", { name: "phone", type: "tel", autocomplete: "off", required: true });
  const reasonCode = select(
    "reason_code",
    REASON_CODES.map((code) => [code, t(`reason.${code}`)]),
    "person_asked",
  );
  const reason = h("input", { name: "reason", required: true, maxlength: 500 });
  const changes = h("textarea", { name: "changes", rows: 3, spellcheck: "false", placeholder: "first_name=Léa\ndepartement=75" });
  const changesField = field(t("privacy.changes"), changes, t("privacy.changesHint"));
  const understood = h("input", { type: "checkbox", name: "understood" });
  const erasureField = h("div", { class: "field check" }, understood, h("label", {}, t("privacy.erasureConfirm")));
  understood.id = "erasure-understood";
  erasureField.querySelector("label").setAttribute("for", understood.id);
  const sync = () => {
    changesField.hidden = kind.value !== "rectification";
    erasureField.hidden = kind.value !== "erasure";
    understood.required = kind.value === "erasure";
  };
  kind.addEventListener("change", sync);
  sync();
  const submit = h("button", { type: "submit" }, t("privacy.submit"));
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        const request = { kind: kind.value, phone: phone.value, reason: reason.value, reason_code: reasonCode.value };
        if (kind.value === "rectification") {
          const variables = {};
          let departement;
          for (const line of changes.value.split("\n")) {
            const [name, ...rest] = line.split("=");
            if (!name.trim()) continue;
            const value = rest.join("=").trim();
            if (name.trim() === "departement") departement = value || null;
            else variables[name.trim()] = value || null;
          }
          request.changes = { variables };
          if (departement !== undefined) request.changes.departement = departement;
        }
        submit.disabled = true;
        try {
          const receipt = await call("POST", "/privacy/requests", { json: request });
          phone.value = "";
          result.replaceChildren(receiptView(receipt));
          result.querySelector("h2").focus();
        } catch (failure) {
          showError(error, failure);
        }
        submit.disabled = false;
      },
    },
    error,
    field(t("privacy.kind"), kind),
    field(t("privacy.phone"), phone, t("privacy.phoneHint")),
    field(t("privacy.reasonCode"), reasonCode, t("privacy.reasonCodeHint")),
    field(t("privacy.reason"), reason),
    changesField,
    erasureField,
    submit,
  );
  const receiptId = h("input", { name: "receipt", required: true, pattern: "pr-[A-Za-z0-9]+" });
  const lookupError = alertBox();
  const lookup = h(
    "form",
    {
      class: "card filters",
      onsubmit: async (event) => {
        event.preventDefault();
        lookupError.hidden = true;
        try {
          result.replaceChildren(receiptView(await call("GET", `/privacy/requests/${encodeURIComponent(receiptId.value.trim())}`)));
          result.querySelector("h2").focus();
        } catch (failure) {
          showError(lookupError, failure);
        }
      },
    },
    lookupError,
    field(t("privacy.id"), receiptId),
    h("button", { type: "submit", class: "secondary" }, t("privacy.read")),
  );
  page(t("privacy.title"), h("p", { class: "hint" }, t("privacy.intro")), form, lookup, result);
}

function nothing() {
  page(t("none.title"), h("p", {}, t("none.text")));
}

// ------------------------------------------------------------------ routing
const ROUTES = [
  [/^#\/campaigns\/new$/, newCampaign],
  [/^#\/campaigns\/(c-[A-Za-z0-9-]+)$/, campaignDetail],
  [/^#\/campaigns$/, campaigns],
  [/^#\/inbox$/, inbox],
  [/^#\/review$/, review],
  [/^#\/signup$/, signups],
  [/^#\/privacy$/, privacy],
  [/^#\/none$/, nothing],
];

async function render() {
  leave();
  leave = () => {};
  await freshen();
  const user = currentUser();
  renderHeader(user);
  if (!user) {
    login();
    return;
  }
  const path = (location.hash || defaultRoute(user)).split("?")[0];
  for (const [pattern, view] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      await view(user, ...match.slice(1));
      return;
    }
  }
  location.hash = defaultRoute(user);
}

async function start() {
  document.getElementById("language").addEventListener("change", (event) => {
    setLanguage(event.target.value);
    render();
  });
  try {
    await loadConfig();
  } catch {
    main.replaceChildren(h("p", { class: "alert", role: "alert" }, t("error.config")));
    return;
  }
  window.addEventListener("hashchange", render);
  await render();
}

start();
