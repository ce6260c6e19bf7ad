"""Reports: pure SVG charts and the locked-down WeasyPrint renderer (ARCHITECTURE §7)."""
