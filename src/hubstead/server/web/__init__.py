"""The web hub: server-rendered HTML pages over the same services as the API (a driver layer).

No SPA and no build step: Jinja2 templates (autoescaped everywhere), one stylesheet and one
small progressive-enhancement script. Pages never touch storage; they call services, exactly
as `server/http/` does, and reuse its request helpers (`http/context.py`), its markdown
renderer and its error statuses. `server/app.py` mounts the web routes after every API route,
so no page ever shadows an API path.

Where things live:

    web/routes.py     the route list (`routes()`), each endpoint wrapped by `page`: domain
                      errors become error pages, every answer gets the security headers
    web/render.py     the Jinja environment, its filters and `render(request, template, **ctx)`
    web/session.py    who is at the browser (`visitor`: session cookie, else bearer token, else
                      anonymous; `signed_in` for pages that need someone), session cookies
    web/csrf.py       `read_form`: every POST form is checked (token field, Origin/Referer)
    web/errors.py     error pages, and the HTML 404 for unknown paths a browser asks for
    web/assets.py     `/static/{name}?v=<hash>`, cached for a year
    web/highlight.py  source text as numbered, highlighted lines (pygments, escaped first)
    web/pages/<noun>.py   one page family each: `routes`, thin handlers (parse, one service
                      call, render)
    web/templates/    `base.html` (blocks `title`, `search_value`, `content`), `partials/`,
                      then one folder per page family (`settings/`, `devices/`, ...)
    web/static/       `hub.css` (light and dark themes), `hub.js`

To add a page family: write `web/pages/<noun>.py` with handlers and a `routes` list; add it to
`routes()` in `web/routes.py` (before nothing: order among pages matters only when two patterns
match the same path, and API routes always come first); put its templates in
`web/templates/<noun>/`, extending `base.html`. A handler gets the visitor with
`await visitor(request)` (or `signed_in(request)`), calls a service with `call(...)`, and
answers `await render(request, "<noun>/<page>.html", **context)`. A form is read with
`await csrf.read_form(request)` and includes `<input type="hidden" name="csrf_token"
value="{{ csrf_token }}">`. A service's `HubError` needs no handling: `page` shows it (an
`AuthenticationError` on a GET sends the browser to sign in). Never mark a string safe in a
template; render markdown with the `markdown` filter.
"""
