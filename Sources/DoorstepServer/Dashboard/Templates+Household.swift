extension DashboardTemplates {
    /// One household: facts, status decision, members, liaisons, lists, visits, change history.
    static let household = """
        {{> header}}
        <div class="cards">
        <section class="card" aria-labelledby="h-summary"><h2 id="h-summary">{{t.summary}}</h2>
        <dl class="facts">
        <dt>{{t.status}}</dt><dd data-figure="status">{{p.status}}</dd>
        <dt>{{t.district}}</dt><dd>{{p.district}}</dd>
        {{#p.hasConflicts}}<dt>{{t.conflicts}}</dt><dd><span class="tag" data-figure="conflicts">{{p.conflictCount}}</span> <a href="/dashboard/review">{{t.openReview}}</a></dd>{{/p.hasConflicts}}
        </dl>
        {{#p.hasAliases}}<p class="muted">{{t.aliases}}: {{#p.aliases}}<span>{{.}}</span> {{/p.aliases}}</p>{{/p.hasAliases}}
        </section>
        {{#p.canDecide}}<section class="card" aria-labelledby="h-decide"><h2 id="h-decide">{{t.statusDecision}}</h2>
        <form method="post" action="/dashboard/households/{{p.id}}/status">
        <input type="hidden" name="csrf" value="{{c.csrf}}">
        <label for="to">{{t.newStatus}}</label>
        <select id="to" name="to">{{#p.nextStatuses}}<option value="{{value}}">{{label}}</option>{{/p.nextStatuses}}</select>
        <p><button type="submit">{{t.decide}}</button></p>
        </form>
        </section>{{/p.canDecide}}
        </div>
        {{#p.table_facts}}{{> table}}{{/p.table_facts}}
        {{#p.table_members}}{{> table}}{{/p.table_members}}
        {{#p.table_liaisons}}{{> table}}{{/p.table_liaisons}}
        {{#p.table_problems}}{{> table}}{{/p.table_problems}}
        {{#p.table_assistance}}{{> table}}{{/p.table_assistance}}
        {{#p.table_visits}}{{> table}}{{/p.table_visits}}
        {{#p.table_attachments}}{{> table}}{{/p.table_attachments}}
        {{#p.table_history}}{{> table}}{{/p.table_history}}
        {{> footer}}
        """
}
