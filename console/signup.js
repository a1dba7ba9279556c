// A team's public sign-up page (signup.html?team=<team>[&lang=en]): the team's notice, a number,
// an explicit consent; the confirmation SMS then asks for a reply. No sign-in: it calls the API's
// two public routes, sends no token, and keeps nothing in the browser
// (docs/decisions/059-the-sign-up-page-is-a-static-page-beside.md).

import { h } from "./dom.js";
import { LANGUAGES, translate } from "./i18n.js";

// A notice's texts, in the order a person reads them (models.api.notices.NoticeText).
const NOTICE_FIELDS = ["organisation", "purpose", "frequency", "retention", "rights", "stop"];
const TEAM = /^[a-z][a-z0-9-]{1,30}$/;
// The API keeps at most this much of the page's address as the consent's proof.
const PAGE_LIMIT = 300;

const main = document.getElementById("main");
const chooser = document.getElementById("language");
const query = new URLSearchParams(location.search);
const team = query.get("team") || "";
let code = firstLanguage();
let apiUrl = "";
let page = null;
// Why the page cannot take a sign-up, when it cannot (a key of i18n.js).
let refusal = null;
// What the person typed, kept across a change of language; `sent` once the request is taken.
const typed = { phone: "", agreed: false, sent: false };

function firstLanguage() {
  const asked = query.get("lang");
  if (LANGUAGES.some(([known]) => known === asked)) return asked;
  return (navigator.language || "fr").toLowerCase().startsWith("fr") ? "fr" : "en";
}

function t(key, params) {
  return translate(code, key, params);
}

// The notice in the page's language, or in French, the one every notice has.
function wording() {
  const shown = page[code] ? code : "fr";
  return { shown, texts: page[shown] };
}

function show(title, ...content) {
  const heading = h("h1", { tabindex: "-1" }, title);
  main.replaceChildren(heading, ...content.filter(Boolean));
  document.title = title;
  return heading;
}

function notice() {
  const { shown, texts } = wording();
  return h(
    "section",
    { class: "card", "aria-labelledby": "notice-title" },
    h("h2", { id: "notice-title" }, t("public.notice")),
    shown !== code ? h("p", { class: "hint" }, t("public.onlyFrench")) : null,
    h(
      "dl",
      { class: "facts notice-texts" },
      NOTICE_FIELDS.map((name) => [h("dt", {}, t(`notice.${name}`)), h("dd", { lang: shown }, texts[name])]),
    ),
  );
}

function form(organisation) {
  const problem = h("p", { class: "alert", id: "phone-problem", role: "alert", hidden: true });
  const phone = h("input", {
    id: "phone",
    name: "phone",
    type: "tel",
    inputmode: "tel",
    autocomplete: "tel",
    required: true,
    maxlength: 32,
    "aria-describedby": "phone-hint phone-problem",
  });
  phone.value = typed.phone;
  phone.addEventListener("input", () => {
    typed.phone = phone.value;
  });
  const agreed = h("input", { id: "agreed", name: "agreed", type: "checkbox", required: true });
  agreed.checked = typed.agreed;
  agreed.addEventListener("change", () => {
    typed.agreed = agreed.checked;
  });
  const submit = h("button", { type: "submit" }, t("public.submit"));
  return h(
    "form",
    {
      class: "card",
      "aria-labelledby": "form-title",
      onsubmit: async (event) => {
        event.preventDefault();
        problem.hidden = true;
        phone.removeAttribute("aria-invalid");
        submit.disabled = true;
        const failure = await request(phone.value);
        submit.disabled = false;
        if (failure === null) {
          typed.sent = true;
          render();
          return;
        }
        problem.textContent = t(failure);
        problem.hidden = false;
        if (failure === "public.badPhone") phone.setAttribute("aria-invalid", "true");
        phone.focus();
      },
    },
    h("h2", { id: "form-title" }, t("public.form")),
    h(
      "div",
      { class: "field" },
      h("label", { for: "phone" }, t("public.phone")),
      phone,
      h("p", { class: "hint", id: "phone-hint" }, t("public.phoneHint")),
      problem,
    ),
    h("div", { class: "field check" }, agreed, h("label", { for: "agreed" }, t("public.consent", { organisation }))),
    submit,
  );
}

// Asks for the sign-up: null once the API took it (its answer never says whether an SMS left),
// else the key of what to tell the person.
async function request(phone) {
  let answer;
  try {
    answer = await fetch(`${apiUrl}/signup/${encodeURIComponent(team)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ phone, notice: page.hash, page: location.href.slice(0, PAGE_LIMIT), language: code }),
    });
  } catch {
    return "public.failed";
  }
  if (answer.status === 202) return null;
  return answer.status === 422 ? "public.badPhone" : "public.failed";
}

function sent(organisation) {
  const { shown } = wording();
  const again = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () => {
        Object.assign(typed, { phone: "", agreed: false, sent: false });
        render();
        document.getElementById("phone").focus();
      },
    },
    t("public.again"),
  );
  return h(
    "section",
    { class: "card", role: "status", "aria-labelledby": "sent-title", "data-sent": "" },
    h("h2", { id: "sent-title", tabindex: "-1" }, t("public.sent")),
    h("p", {}, t("public.sentText", { organisation, keyword: page.keywords[shown], hours: page.confirmation_hours })),
    again,
  );
}

function render() {
  document.documentElement.lang = code;
  document.getElementById("language-label").textContent = t("public.language");
  chooser.replaceChildren(
    ...LANGUAGES.map(([known, name]) => h("option", { value: known, lang: known, selected: known === code }, name)),
  );
  if (!page) return;
  const { organisation } = wording().texts;
  show(
    t("public.title", { organisation }),
    h("p", {}, t("public.intro", { organisation })),
    notice(),
    typed.sent ? sent(organisation) : form(organisation),
  );
  if (typed.sent) document.getElementById("sent-title").focus();
}

function refuse(key) {
  refusal = key;
  render();
  show(t(key)).focus();
}

async function start() {
  chooser.addEventListener("change", () => {
    code = chooser.value;
    const url = new URL(location.href);
    url.searchParams.set("lang", code);
    history.replaceState(null, "", url);
    if (page) render();
    else if (refusal) refuse(refusal);
  });
  render();
  if (!TEAM.test(team)) return refuse("public.noTeam");
  try {
    apiUrl = (await (await fetch("config.json", { cache: "no-store" })).json()).api_url;
    const answer = await fetch(`${apiUrl}/signup/${encodeURIComponent(team)}`, { headers: { Accept: "application/json" } });
    if (answer.status === 404) return refuse("public.noPage");
    if (!answer.ok) return refuse("public.failed");
    page = await answer.json();
  } catch {
    return refuse("public.failed");
  }
  render();
}

start();
