"""The status page's headers and its one stylesheet (inline: the page loads nothing).

Phone first: cards instead of wide tables, long values (keys, addresses, paths) wrap
anywhere, and commands wrap inside their box; a dark scheme follows the system's.
"""

from __future__ import annotations

__all__ = ["PAGE_HEADERS", "STYLE"]

# Nothing may load from anywhere (no script, image, font, frame, form target); the page's
# own <style> is the one exception.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

STYLE = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:64rem;padding:12px;font:15px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif;color:#1c1c1c;background:#f6f6f4;overflow-wrap:anywhere}
h1{font-size:1.25rem;margin:.2rem 0 .4rem}
h2{font-size:1.05rem;margin:1.4rem 0 .5rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}
p{margin:.35rem 0}
.meta{color:#555;font-size:.85rem}
.card{background:#fff;border:1px solid #d6d6d0;border-radius:6px;padding:.5rem .7rem;
margin:.5rem 0}
.card.alert{border-color:#c0392b;border-left-width:5px}
.card.warn{border-color:#b9770e;border-left-width:5px}
.name{font-weight:600}
dl{display:grid;grid-template-columns:minmax(6.5rem,max-content) minmax(0,1fr);gap:.1rem .7rem;
margin:.3rem 0}
dt{color:#555}
dd{margin:0;min-width:0}
pre,code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#eeeee8;border:1px solid #d6d6d0;
border-radius:4px;padding:.4rem .5rem;margin:.3rem 0;user-select:all}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.85rem;
font-weight:600;background:#e4e4de;color:#333}
.ok{background:#d9f0dc;color:#1d5e26}
.bad{background:#f7d9d5;color:#8e2418}
.mid{background:#fbecc8;color:#7a5200}
@media (prefers-color-scheme:dark){
body{background:#161616;color:#e6e6e6}.card{background:#202020;border-color:#3a3a3a}
dt,.meta{color:#aaa}pre{background:#2a2a2a;border-color:#3a3a3a}
.badge{background:#333;color:#ddd}.ok{background:#1f3d24;color:#bfe8c5}
.bad{background:#4a1f1a;color:#f6c6bf}.mid{background:#4a3a12;color:#f4dea6}}
"""
