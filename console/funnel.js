// The delivery funnel of a campaign as inline SVG: one bar per status, scaled to its recipients.

import { s } from "./dom.js";
import { t } from "./i18n.js";

export const FUNNEL = ["queued", "sent", "delivered", "failed", "suppressed", "capped", "deferred"];

const ROW = 30;
const LABEL = 160;
const BAR = 220;
const WIDTH = LABEL + BAR + 70;

export function funnel(counts, recipients) {
  const largest = Math.max(recipients, ...FUNNEL.map((status) => counts[status] || 0), 1);
  const summary = FUNNEL.map((status) => `${t(`status.${status}`)} ${counts[status] || 0}`);
  return s(
    "svg",
    {
      class: "funnel",
      viewBox: `0 0 ${WIDTH} ${ROW * FUNNEL.length}`,
      role: "img",
      "aria-label": `${t("campaign.funnel")}: ${summary.join(", ")}`,
    },
    FUNNEL.map((status, index) => {
      const count = counts[status] || 0;
      const y = index * ROW;
      return s(
        "g",
        { "data-status": status },
        s("text", { x: 0, y: y + 19, class: "funnel-label" }, t(`status.${status}`)),
        s("rect", { x: LABEL, y: y + 6, width: BAR, height: 18, class: "funnel-track" }),
        s("rect", {
          x: LABEL,
          y: y + 6,
          width: Math.round((BAR * count) / largest),
          height: 18,
          class: `funnel-bar funnel-${status}`,
        }),
        s("text", { x: LABEL + BAR + 8, y: y + 19, class: "funnel-count" }, String(count)),
      );
    }),
  );
}
