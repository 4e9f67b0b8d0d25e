import DoorstepWeb

/// The field app's mustache templates (HTML-escaped by default; no template uses triple
/// mustaches). `c` is the page's chrome, `t` the texts under `app.` in the page's language, `p`
/// the page's content.
enum FieldAppTemplates {
    /// Every template and partial by name.
    static let all: [String: String] = [
        "css": css, "header": header, "footer": footer, "field": field, "worklist": worklist, "household": household,
        "edit": edit, "verify": verify, "new": newHousehold, "sync": sync, "attention": attention, "enroll": enroll,
        "print": print, "message": message,
    ]

    /// The shared style, and what the field app adds: the status line, reason tags, form errors,
    /// and an A4 print sheet.
    static let css =
        WebStyle.base
            + """

            .status{background:#e9eef3;border-bottom:1px solid #c4ccd4;padding:6px 16px;display:flex;flex-wrap:wrap;gap:4px 20px;font-size:.95rem}
            .status .online{color:#1f7a4d;font-weight:700}.status .offline{color:#7a4a00;font-weight:700}
            .status form{display:inline;margin-left:auto}
            .reasons{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 12px;padding:0;list-style:none}
            .reasons a{display:inline-block;border:1px solid #0b4f9c;border-radius:16px;padding:2px 12px;text-decoration:none}
            .reasons a[aria-current=true]{background:#0b4f9c;color:#fff}
            .tag.notVerified{background:#7a4a00}.tag.followUp{background:#5b3a8c}.tag.assistanceDue{background:#a30000}.tag.attention{background:#c75000}
            .field{margin-bottom:10px}.field .hint{font-size:.9rem;color:#4a5560;margin:2px 0 0}
            .field .problem{color:#a30000;font-weight:600;margin:2px 0 0}
            .field.invalid input,.field.invalid select,.field.invalid textarea{border:2px solid #a30000}
            textarea{font:inherit;padding:8px;border:1px solid #5c6773;border-radius:4px;width:100%;max-width:560px;min-height:4.5em}
            input[type=date],input[type=datetime-local],input[type=tel]{font:inherit;padding:8px;border:1px solid #5c6773;border-radius:4px;background:#fff}
            fieldset{border:1px solid #c4ccd4;border-radius:6px;margin:0 0 16px;padding:8px 16px;background:#fff}
            legend{font-weight:700;padding:0 4px}
            .checks{display:flex;flex-wrap:wrap;gap:4px 16px}.checks label{display:flex;align-items:center;gap:6px;font-weight:400;margin:4px 0}
            .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:0 24px}
            .meter{width:100%;max-width:480px}
            .who-changed{font-size:.85rem;color:#4a5560}
            .sheet{background:#fff;max-width:210mm;margin:0 auto;padding:12mm}
            .sheet table{font-size:.9rem}.sign{margin-top:24px;display:flex;gap:48px}.sign span{border-bottom:1px solid #1a1a1a;min-width:160px;display:inline-block}
            @media print{header.top,.status,.noprint,footer.foot{display:none}body{background:#fff}main{padding:0;max-width:none}.sheet{padding:0;margin:0}
            @page{size:A4;margin:15mm}}
            """

    static let header = """
        <!DOCTYPE html>
        <html lang="{{c.lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#c.refreshSeconds}}<meta http-equiv="refresh" content="{{.}}">{{/c.refreshSeconds}}
        <title>{{c.title}} · {{t.app}}</title>
        <style>{{> css}}</style>
        </head>
        <body>
        <a class="skip" href="#main">{{t.skip}}</a>
        <header class="top">
        <span class="brand">{{t.app}}</span>
        {{#c.enrolled}}<nav aria-label="{{t.navLabel}}"><ul>{{#c.nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/c.nav}}</ul></nav>{{/c.enrolled}}
        <a class="lang" href="{{c.languageLink.href}}" hreflang="{{c.languageLink.lang}}" lang="{{c.languageLink.lang}}">{{c.languageLink.label}}</a>
        </header>
        {{#c.enrolled}}<div class="status" role="status" aria-label="{{t.statusLabel}}">
        <span class="{{c.connection.kind}}" data-status="connection">{{c.connection.text}}</span>
        <span data-status="pending">{{c.pendingText}}</span>
        <span data-status="last-sync">{{c.lastSyncText}}</span>
        {{#c.revoked}}<strong>{{t.revokedTitle}}</strong>{{/c.revoked}}
        {{^c.revoked}}{{^c.syncRunning}}<form method="post" action="/sync"><input type="hidden" name="csrf" value="{{c.csrf}}"><button type="submit" data-action="sync">{{t.syncNow}}</button></form>{{/c.syncRunning}}
        {{#c.syncRunning}}<a href="/sync">{{t.syncRunning}}</a>{{/c.syncRunning}}{{/c.revoked}}
        </div>{{/c.enrolled}}
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

    /// One input of a form, from the field catalog (`FormField`): a label, the control, a hint,
    /// and the problem with what was typed, tied to the control for screen readers.
    static let field = """
        <div class="field{{#problem}} invalid{{/problem}}">
        {{#was}}<input type="hidden" name="was.{{name}}" value="{{.}}"><input type="hidden" name="base.{{name}}" value="{{base}}">{{/was}}
        {{#isChoices}}<fieldset><legend>{{label}}{{#required}} *{{/required}}</legend><input type="hidden" name="{{name}}" value=""><div class="checks">{{#options}}<label><input type="checkbox" name="{{name}}" value="{{value}}"{{#selected}} checked{{/selected}}> {{label}}</label>{{/options}}</div></fieldset>{{/isChoices}}
        {{^isChoices}}<label for="f-{{name}}">{{label}}{{#required}} *{{/required}}</label>
        {{#isSelect}}<select id="f-{{name}}" name="{{name}}"{{#problem}} aria-invalid="true" aria-describedby="e-{{name}}"{{/problem}}>{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select>{{/isSelect}}
        {{#isTextArea}}<textarea id="f-{{name}}" name="{{name}}" maxlength="{{maxLength}}"{{#problem}} aria-invalid="true" aria-describedby="e-{{name}}"{{/problem}}>{{value}}</textarea>{{/isTextArea}}
        {{#isInput}}<input type="{{inputType}}" id="f-{{name}}" name="{{name}}" value="{{value}}"{{#inputMode}} inputmode="{{.}}"{{/inputMode}}{{#maxLength}} maxlength="{{.}}"{{/maxLength}}{{#placeholder}} placeholder="{{.}}"{{/placeholder}}{{#accept}} accept="{{.}}" multiple{{/accept}} autocomplete="off"{{#problem}} aria-invalid="true" aria-describedby="e-{{name}}"{{/problem}}>{{/isInput}}
        {{/isChoices}}
        {{#hint}}<p class="hint">{{.}}</p>{{/hint}}
        {{#changedBy}}<p class="who-changed">{{.}}</p>{{/changedBy}}
        {{#conflicted}}<label class="keep"><input type="checkbox" name="settle.{{name}}" value="1"> {{t.keepShown}}</label>{{/conflicted}}
        {{#problem}}<p class="problem" id="e-{{name}}">{{.}}</p>{{/problem}}
        </div>

        """

    /// The first page: the households that need the visitor, with why; a search over all of them.
    static let worklist = """
        {{> header}}
        <form class="filters" method="get" action="/" role="search">
        <div><label for="q">{{t.search}}</label><input type="search" id="q" name="q" value="{{p.q}}" placeholder="{{t.searchHint}}"></div>
        <div><label for="status">{{t.status}}</label><select id="status" name="status">{{#p.statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/p.statuses}}</select></div>
        <div><label><input type="checkbox" name="all" value="1"{{#p.all}} checked{{/p.all}}> {{t.allHouseholds}}</label></div>
        <div><button type="submit">{{t.find}}</button></div>
        </form>
        <ul class="reasons" aria-label="{{t.reasonsLabel}}">{{#p.reasons}}<li><a href="{{href}}"{{#current}} aria-current="true"{{/current}} data-reason="{{key}}">{{label}} <strong data-count="{{key}}">{{count}}</strong></a></li>{{/p.reasons}}</ul>
        {{#p.hasItems}}<div class="scroll"><table data-table="worklist">
        <thead><tr><th scope="col">{{t.headName}}</th><th scope="col">{{t.nationalId}}</th><th scope="col">{{t.address}}</th><th scope="col">{{t.status}}</th><th scope="col">{{t.why}}</th></tr></thead>
        <tbody>
        {{#p.items}}<tr data-household="{{id}}"><td><a href="/households/{{id}}">{{name}}</a>{{#local}} <span class="tag" title="{{t.unsyncedHint}}">{{t.unsynced}}</span>{{/local}}</td><td>{{nationalId}}</td><td>{{address}}</td><td>{{status}}</td><td>{{#reasons}}<span class="tag {{key}}">{{label}}</span> {{/reasons}}{{#due}}<span class="muted">{{.}}</span>{{/due}}</td></tr>
        {{/p.items}}</tbody></table></div>
        <p class="muted" data-figure="matching">{{p.shownText}}</p>
        {{#p.nextHref}}<p><a href="{{.}}">{{t.nextPage}}</a></p>{{/p.nextHref}}{{/p.hasItems}}
        {{^p.hasItems}}<p class="muted" data-figure="empty">{{p.emptyText}}</p>{{/p.hasItems}}
        <p><a href="/new">{{t.newHousehold}}</a></p>
        {{> footer}}
        """

    /// One household: every fact with who changed it last, its entries, its visits; what to do next.
    static let household = """
        {{> header}}
        <p class="actions noprint"><a href="/households/{{p.id}}/verify"><strong>{{t.verifyAction}}</strong></a> <a href="/households/{{p.id}}/edit">{{t.editFacts}}</a> <a href="/households/{{p.id}}/print">{{t.printSheet}}</a></p>
        {{#p.conflicts}}<p class="error" role="alert" data-conflict="{{field}}">{{text}}</p>{{/p.conflicts}}
        {{#p.local}}<p class="muted">{{t.unsyncedHint}}</p>{{/p.local}}
        <section aria-labelledby="h-facts"><h2 id="h-facts">{{t.facts}}</h2>
        <dl class="facts">{{#p.facts}}<dt>{{label}}</dt><dd data-field="{{name}}">{{value}}{{#changedBy}} <span class="who-changed">{{.}}</span>{{/changedBy}}</dd>{{/p.facts}}</dl>
        </section>
        {{#p.sections}}<section aria-labelledby="h-{{id}}" data-section="{{id}}"><div class="table-head"><h2 id="h-{{id}}">{{title}}</h2>{{#addHref}}<a class="noprint" href="{{.}}">{{t.add}}</a>{{/addHref}}</div>
        {{#hasRows}}<div class="scroll"><table><thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}<th scope="col" class="noprint"></th></tr></thead><tbody>
        {{#rows}}<tr data-entry="{{id}}"{{#conflict}} class="conflict"{{/conflict}}>{{#cells}}<td>{{.}}</td>{{/cells}}<td class="noprint">{{#editHref}}<a href="{{.}}">{{t.edit}}</a>{{/editHref}}{{#viewHref}}<a href="{{.}}" data-attachment="{{id}}">{{t.view}}</a>{{/viewHref}}</td></tr>
        {{/rows}}</tbody></table></div>{{/hasRows}}
        {{^hasRows}}<p class="muted">{{t.none}}</p>{{/hasRows}}
        </section>{{/p.sections}}
        {{> footer}}
        """

    /// A form over one household's facts or one entry: the catalog's fields, errors beside them.
    static let edit = """
        {{> header}}
        <form method="post" action="{{p.action}}" novalidate>
        <input type="hidden" name="csrf" value="{{c.csrf}}">{{#p.nonce}}<input type="hidden" name="nonce" value="{{.}}">{{/p.nonce}}
        <div class="grid">{{#p.fields}}{{> field}}{{/p.fields}}</div>
        <p class="actions"><button type="submit">{{t.save}}</button> <a href="{{p.back}}">{{t.cancel}}</a></p>
        </form>
        {{#p.removeAction}}<form method="post" action="{{.}}" class="noprint"><input type="hidden" name="csrf" value="{{c.csrf}}"><button class="secondary" type="submit">{{t.remove}}</button></form>{{/p.removeAction}}
        {{> footer}}
        """

    /// The home verification (入户核实): the visit, corrections to the file, new list items; one save.
    static let verify = """
        {{> header}}
        <form method="post" action="/households/{{p.id}}/verify" enctype="multipart/form-data" novalidate>
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="nonce" value="{{p.nonce}}">
        <fieldset><legend>{{t.theVisit}}</legend><div class="grid">{{#p.visit}}{{> field}}{{/p.visit}}</div></fieldset>
        <fieldset><legend>{{t.corrections}}</legend><p class="hint">{{t.correctionsHint}}</p><div class="grid">{{#p.facts}}{{> field}}{{/p.facts}}</div></fieldset>
        <fieldset><legend>{{t.newProblem}}</legend><p class="hint">{{t.newItemHint}}</p><div class="grid">{{#p.problem}}{{> field}}{{/p.problem}}</div></fieldset>
        <fieldset><legend>{{t.newAssistance}}</legend><p class="hint">{{t.newItemHint}}</p><div class="grid">{{#p.assistance}}{{> field}}{{/p.assistance}}</div></fieldset>
        <fieldset><legend>{{t.documents}}</legend><p class="hint">{{t.documentsHint}}</p><div class="grid">{{#p.documents}}{{> field}}{{/p.documents}}</div></fieldset>
        <p class="actions"><button type="submit">{{t.saveVerification}}</button> <a href="/households/{{p.id}}">{{t.cancel}}</a></p>
        </form>
        {{> footer}}
        """

    /// A new household: its facts; a national ID this laptop already holds is shown before filing.
    static let newHousehold = """
        {{> header}}
        {{#p.hasMatches}}<section class="error" role="alert" aria-labelledby="h-matches"><h2 id="h-matches">{{t.sameIdTitle}}</h2><p>{{t.sameIdText}}</p>
        <ul>{{#p.matches}}<li><a href="/households/{{id}}" data-match="{{id}}">{{name}} · {{nationalId}} · {{address}} · {{status}}</a></li>{{/p.matches}}</ul></section>{{/p.hasMatches}}
        <form method="post" action="/new" novalidate>
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="nonce" value="{{p.nonce}}">
        <div class="grid">{{#p.fields}}{{> field}}{{/p.fields}}</div>
        {{#p.hasMatches}}<p><label><input type="checkbox" name="force" value="1"> {{t.fileAnyway}}</label></p>{{/p.hasMatches}}
        <p class="actions"><button type="submit">{{t.file}}</button> <a href="/">{{t.cancel}}</a></p>
        </form>
        {{> footer}}
        """

    /// Sync: progress while it runs (the page refreshes itself), the summary afterwards.
    static let sync = """
        {{> header}}
        {{#p.running}}<p data-sync="running">{{p.phaseText}}</p>
        <progress class="meter" max="{{p.total}}" value="{{p.done}}"{{^p.total}} aria-label="{{p.phaseText}}"{{/p.total}}></progress>
        <p data-figure="bytes">{{p.bytesText}}</p>{{#p.etaText}}<p>{{.}}</p>{{/p.etaText}}
        <form method="post" action="/sync/cancel"><input type="hidden" name="csrf" value="{{c.csrf}}"><button class="secondary" type="submit">{{t.cancelSync}}</button></form>{{/p.running}}
        {{^p.running}}{{#p.summary}}<section aria-labelledby="h-summary"><h2 id="h-summary">{{t.lastResult}}</h2>
        <dl class="facts" data-sync="summary">{{#rows}}<dt>{{label}}</dt><dd data-figure="{{key}}">{{value}}</dd>{{/rows}}</dl>
        {{#attentionHref}}<p><a href="{{.}}">{{t.seeAttention}}</a></p>{{/attentionHref}}</section>{{/p.summary}}
        {{#p.failure}}<p class="error" role="alert" data-sync="failed">{{.}}</p>{{/p.failure}}
        {{#p.revoked}}<section class="error" role="alert" data-sync="revoked"><h2>{{t.revokedTitle}}</h2><p>{{p.revokedText}}</p></section>{{/p.revoked}}
        {{^p.revoked}}<form method="post" action="/sync"><input type="hidden" name="csrf" value="{{c.csrf}}"><button type="submit">{{t.syncNow}}</button></form>{{/p.revoked}}{{/p.running}}
        {{#p.server}}<details data-sync="server"{{#open}} open{{/open}}><summary>{{t.serverTitle}}</summary><p>{{text}}</p>
        <form method="post" action="/sync/server" novalidate><input type="hidden" name="csrf" value="{{c.csrf}}">
        {{#field}}{{> field}}{{/field}}<p><button class="secondary" type="submit">{{t.serverMove}}</button></p></form></details>{{/p.server}}
        {{> footer}}
        """

    /// Conflicts and refused writes on this laptop, in words, with what the visitor can do.
    static let attention = """
        {{> header}}
        <section aria-labelledby="h-conflicts"><h2 id="h-conflicts">{{t.conflictsTitle}}</h2>
        {{#p.hasConflicts}}<p class="hint">{{t.conflictsHint}}</p><ul>{{#p.conflicts}}<li data-conflict="{{household}}"><a href="/households/{{household}}">{{name}}</a>: {{text}}</li>{{/p.conflicts}}</ul>{{/p.hasConflicts}}
        {{^p.hasConflicts}}<p class="muted">{{t.noConflicts}}</p>{{/p.hasConflicts}}
        </section>
        <section aria-labelledby="h-refused"><h2 id="h-refused">{{t.refusedTitle}}</h2>
        {{#p.hasRefused}}<p class="hint">{{t.refusedHint}}</p>{{/p.hasRefused}}
        {{#p.refused}}<div class="card" data-refused="{{seq}}"><p><strong>{{what}}</strong> · <a href="/households/{{household}}">{{name}}</a></p><p class="error">{{reason}}</p>
        <form method="post" action="/attention/{{seq}}/resend"><input type="hidden" name="csrf" value="{{c.csrf}}"><div class="grid">{{#fields}}{{> field}}{{/fields}}</div><p class="actions"><button type="submit">{{t.resend}}</button></p></form>
        <form method="post" action="/attention/{{seq}}/discard"><input type="hidden" name="csrf" value="{{c.csrf}}"><button class="secondary" type="submit">{{t.discard}}</button></form></div>
        {{/p.refused}}
        {{^p.hasRefused}}<p class="muted">{{t.noRefused}}</p>{{/p.hasRefused}}
        </section>
        {{> footer}}
        """

    /// Enrollment of a laptop that is not enrolled yet.
    static let enroll = """
        {{> header}}
        <form class="signin" method="post" action="/enroll" novalidate>
        <input type="hidden" name="csrf" value="{{c.csrf}}">
        <p>{{t.enrollIntro}}</p>
        {{#p.fields}}{{> field}}{{/p.fields}}
        <p><button type="submit">{{t.enroll}}</button></p>
        </form>
        {{> footer}}
        """

    /// A household's file and latest visit on A4, with a signature line, for the browser's print.
    static let print = """
        {{> header}}
        <p class="noprint"><a href="/households/{{p.id}}">{{t.back}}</a> · {{t.printHint}}</p>
        <article class="sheet">
        <h2>{{t.sheetTitle}}</h2>
        <table><tbody>{{#p.facts}}<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>{{/p.facts}}</tbody></table>
        {{#p.sections}}<h3>{{title}}</h3>{{#hasRows}}<table><thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead><tbody>{{#rows}}<tr>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</tbody></table>{{/hasRows}}{{^hasRows}}<p>{{t.none}}</p>{{/hasRows}}{{/p.sections}}
        <h3>{{t.latestVisit}}</h3>
        {{#p.hasVisit}}<table><tbody>{{#p.visit}}<tr><th scope="row">{{label}}</th><td>{{value}}</td></tr>{{/p.visit}}</tbody></table>{{/p.hasVisit}}
        {{^p.hasVisit}}<p>{{t.noVisit}}</p>{{/p.hasVisit}}
        <div class="sign"><p>{{t.signVisitor}} <span></span></p><p>{{t.signHousehold}} <span></span></p><p>{{t.signDate}} <span></span></p></div>
        <p class="muted">{{p.printedText}}</p>
        </article>
        {{> footer}}
        """

    /// A page that only says something (the start page without the key, an error).
    static let message = """
        {{> header}}
        <p>{{p.text}}</p>
        {{#p.linkHref}}<p><a href="{{.}}">{{p.linkText}}</a></p>{{/p.linkHref}}
        {{> footer}}
        """
}
