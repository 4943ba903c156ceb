"""The workshop dashboard (`linkage dashboard`): linkage modes live in a browser.

Modules: `state` (controls and live runs, no Solara), `app` (the Solara page), `widgets`
(NetLogo-style sliders, switches, monitors), `plots` and `network` (matplotlib figures),
`i18n` (Chinese and English labels, CJK font), `assets` (Solara's browser files offline).
"""
