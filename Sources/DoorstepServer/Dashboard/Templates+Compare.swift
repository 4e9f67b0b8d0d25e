extension DashboardTemplates {
    /// Data comparison: upload a civil-affairs roster, see the mismatches.
    static let compare = """
        {{> header}}
        <form class="card" method="post" action="/dashboard/compare" enctype="multipart/form-data">
        <input type="hidden" name="csrf" value="{{c.csrf}}">
        {{#p.isCity}}<label for="district">{{t.district}}</label>
        <select id="district" name="district"><option value=""{{#p.allSelected}} selected{{/p.allSelected}}>{{t.allDistricts}}</option>{{#p.districts}}<option value="{{code}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/p.districts}}</select>{{/p.isCity}}
        <label for="roster">{{t.rosterFile}}</label>
        <input type="file" id="roster" name="roster" accept=".csv,text/csv" required>
        <p class="muted">{{t.rosterHint}}</p>
        <div class="actions"><button type="submit" name="format" value="html">{{t.compareButton}}</button><button type="submit" name="format" value="csv" class="secondary">{{t.compareCsv}}</button></div>
        </form>
        {{#p.detail}}<p class="error">{{.}}</p>{{/p.detail}}
        {{#p.hasReport}}
        <div class="cards"><section class="card" aria-labelledby="h-summary"><h2 id="h-summary">{{t.compareSummary}}</h2>
        <dl class="facts">
        <dt>{{t.rosterRows}}</dt><dd data-figure="rows">{{p.counts.rows}}</dd>
        <dt>{{t.notOnFile}}</dt><dd data-figure="notOnFile">{{p.counts.notOnFile}}</dd>
        <dt>{{t.notInRoster}}</dt><dd data-figure="notInRoster">{{p.counts.notInRoster}}</dd>
        <dt>{{t.disagreements}}</dt><dd data-figure="disagreements">{{p.counts.disagreements}}</dd>
        <dt>{{t.invalidRows}}</dt><dd data-figure="invalid">{{p.counts.invalid}}</dd>
        <dt>{{t.outsideScope}}</dt><dd data-figure="outside">{{p.counts.outside}}</dd>
        </dl></section></div>
        {{#p.table}}{{> table}}{{/p.table}}
        {{/p.hasReport}}
        {{> footer}}
        """
}
