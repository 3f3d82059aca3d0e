"""`coord board`: the human coordinator's page, served locally or written as one static file.

`data` (what the page shows) and `layout` (where the dependency graph puts each task) are
pure; `page` assembles the HTML from the package's own CSS and JS; `server` is the local
web server and `actions` the few steps a person may take from the page.
"""
