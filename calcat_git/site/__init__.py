"""The static site: generate pages and the JSON API, SVG pictures, build with the site engine."""
