import DoorstepWeb

/// The dashboard's mustache templates, embedded as text (one file per page). Values are
/// HTML-escaped by the template engine; no template uses triple mustaches.
enum DashboardTemplates {
    /// Every template and partial by name.
    static let all: [String: String] = [
        "css": css, "header": header, "footer": footer, "table": table, "barchart": barChart, "weeklychart": weeklyChart, "progress": progress,
        "signin": signIn, "overview": overview, "review": review, "households": households, "household": household,
        "compare": compare, "error": error,
    ]

    /// The only style sheet: inline, allowed by its hash in the Content-Security-Policy (the
    /// style Doorstep's pages share).
    static let css = WebStyle.base

    static let header = """
        <!DOCTYPE html>
        <html lang="{{c.lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{c.title}} · {{t.app}}</title>
        <style>{{> css}}</style>
        </head>
        <body>
        <a class="skip" href="#main">{{t.skip}}</a>
        <header class="top">
        <span class="brand">{{t.app}}</span>
        {{#c.signedIn}}
        <nav aria-label="{{t.navLabel}}"><ul>{{#c.nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/c.nav}}</ul></nav>
        <div class="who"><span data-account="{{c.accountName}}">{{c.accountName}} · {{c.accountRole}} · {{c.scopeName}}</span><form class="inline" method="post" action="/dashboard/signout"><input type="hidden" name="csrf" value="{{c.csrf}}"><button class="link" type="submit">{{t.signOut}}</button></form></div>
        {{/c.signedIn}}
        <a class="lang" href="{{c.languageLink.href}}" hreflang="{{c.languageLink.lang}}" lang="{{c.languageLink.lang}}">{{c.languageLink.label}}</a>
        </header>
        <main id="main">
        <h1>{{c.title}}</h1>
        {{#c.flash}}<p class="flash" role="status">{{.}}</p>{{/c.flash}}
        {{#c.error}}<p class="error" role="alert">{{.}}</p>{{/c.error}}

        """

    static let footer = """
        </main>
        <footer class="foot"><p class="muted">{{t.footer}}</p></footer>
        </body>
        </html>

        """

    /// A ``WebTable``, with its CSV export link.
    static let table = """
        <section class="table" id="table-{{id}}" aria-labelledby="caption-{{id}}">
        <div class="table-head"><h2 id="caption-{{id}}">{{caption}}</h2>{{#exportHref}}<a href="{{.}}" download>{{t.exportCsv}}</a>{{/exportHref}}</div>
        {{#note}}<p class="muted" data-note="{{id}}">{{.}}</p>{{/note}}
        {{#hasRows}}<div class="scroll"><table data-table="{{id}}">
        <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
        <tbody>
        {{#rows}}<tr{{#mark}} class="{{.}}"{{/mark}}>{{#cells}}<td{{#numeric}} class="num"{{/numeric}}>{{#href}}<a href="{{.}}">{{text}}</a>{{/href}}{{^href}}{{text}}{{/href}}</td>{{/cells}}</tr>
        {{/rows}}</tbody>
        </table></div>{{/hasRows}}
        {{^hasRows}}<p class="muted">{{emptyText}}</p>{{/hasRows}}
        </section>

        """

    /// A ``WeeklyChart`` as inline SVG: stage bands, visits above, exits below, today and the deadline.
    static let weeklyChart = """
        <svg class="chart weekly" viewBox="0 0 {{width}} {{height}}" role="img" aria-labelledby="chart-{{id}}-title" data-chart="{{id}}">
        <title id="chart-{{id}}-title">{{title}}</title>
        {{#bands}}<rect x="{{x}}" y="16" width="{{width}}" height="218" fill="{{fill}}"></rect><text x="{{labelX}}" y="12" font-size="11">{{label}}</text>
        {{/bands}}<text x="0" y="26" font-size="11">{{visitsLabel}}</text><text x="0" y="40" font-size="10" fill="#555">{{maxVisits}}</text>
        <text x="0" y="148" font-size="11">{{exitsLabel}}</text><text x="0" y="162" font-size="10" fill="#555">{{maxExits}}</text>
        <line x1="44" y1="128" x2="712" y2="128" stroke="#999"></line><line x1="44" y1="230" x2="712" y2="230" stroke="#999"></line>
        {{#columns}}<g data-week="{{week}}"><title>{{title}}</title><rect x="{{x}}" y="{{visitsY}}" width="{{width}}" height="{{visitsHeight}}" fill="#2563a8"></rect><rect x="{{x}}" y="{{exitY}}" width="{{width}}" height="{{exitHeight}}" fill="#2f855a"></rect><rect x="{{x}}" y="{{safetyY}}" width="{{width}}" height="{{safetyHeight}}" fill="#c05621"></rect>{{#labelled}}<text x="{{x}}" y="246" font-size="10">{{week}}</text>{{/labelled}}</g>
        {{/columns}}{{#today}}<line x1="{{x}}" y1="16" x2="{{x}}" y2="234" stroke="#222" stroke-dasharray="3 3"></line><text x="{{labelX}}" y="262" font-size="11">{{label}}</text>
        {{/today}}{{#deadline}}<line x1="{{x}}" y1="16" x2="{{x}}" y2="234" stroke="#b91c1c" stroke-width="2"></line><text x="{{labelX}}" y="262" font-size="11" fill="#b91c1c">{{label}}</text>
        {{/deadline}}<rect x="470" y="252" width="10" height="10" fill="#2f855a"></rect><text x="484" y="261" font-size="11">{{outOfHardshipLabel}}</text>
        <rect x="580" y="252" width="10" height="10" fill="#c05621"></rect><text x="594" y="261" font-size="11">{{safetyNetLabel}}</text>
        </svg>

        """

    /// A ``BarChart`` as inline SVG.
    static let barChart = """
        <svg class="chart" viewBox="0 0 {{width}} {{height}}" role="img" aria-labelledby="chart-{{id}}-title">
        <title id="chart-{{id}}-title">{{title}}</title>
        {{#bars}}<text x="0" y="{{labelY}}">{{label}}</text><rect x="0" y="{{barY}}" width="{{barWidth}}" height="{{barHeight}}" fill="#2563a8"></rect><text x="{{valueX}}" y="{{valueY}}" data-figure="{{id}}-{{key}}">{{value}}</text>
        {{/bars}}</svg>

        """

    /// A ``ProgressBar`` as inline SVG, with its figures in text.
    static let progress = """
        <svg class="progress" viewBox="0 0 {{width}} 24" role="img" aria-label="{{label}} {{percent}}"><rect width="{{width}}" height="24" rx="4" fill="#dde3ea"></rect><rect width="{{filled}}" height="24" rx="4" fill="#1f7a4d"></rect></svg>
        <p><strong data-figure="{{id}}-percent">{{percent}}</strong> (<span data-figure="{{id}}">{{numerator}}/{{denominator}}</span>)</p>

        """

    /// The district picker of the city's pages (`action` is the page's path).
    static func districtPicker(action: String) -> String {
        """
        {{#p.isCity}}<form class="filters" method="get" action="\(action)">
        <div><label for="district">{{t.district}}</label>
        <select id="district" name="district"><option value=""{{#p.allSelected}} selected{{/p.allSelected}}>{{t.allDistricts}}</option>{{#p.districts}}<option value="{{code}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/p.districts}}</select></div>
        <div><button type="submit">{{t.show}}</button></div>
        </form>{{/p.isCity}}

        """
    }
}
