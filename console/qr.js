// A QR code drawn as SVG nodes by qrcode-generator (console/vendor/, MIT; its SHA-256 is checked
// by tests/unit/test_console_files.py): nothing parsed as markup, nothing loaded from elsewhere.

import qrcode from "./vendor/qrcode-generator/qrcode.esm.js";
import { s } from "./dom.js";

// Error correction M: about 15 % of a printed code may be smudged or torn.
const CORRECTION = "M";
// The light margin around the code, in modules, that readers need to find it.
const QUIET_ZONE = 4;

export function qrCode(text, label) {
  const code = qrcode(0, CORRECTION);
  code.addData(text);
  code.make();
  const count = code.getModuleCount();
  const size = count + 2 * QUIET_ZONE;
  const squares = [];
  for (let row = 0; row < count; row += 1) {
    for (let column = 0; column < count; column += 1) {
      if (code.isDark(row, column)) squares.push(`M${column + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`);
    }
  }
  return s(
    "svg",
    { class: "qr", viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": label, "shape-rendering": "crispEdges" },
    s("rect", { width: size, height: size, fill: "#fff" }),
    s("path", { d: squares.join(""), fill: "#000" }),
  );
}
