extension DashboardTemplates {
    /// The review queue: conflicts side by side with every head and writer, duplicates, rejections.
    static let review = """
        {{> header}}
        \(districtPicker(action: "/dashboard/review"))
        <section aria-labelledby="h-conflicts">
        <div class="table-head"><h2 id="h-conflicts">{{t.conflicts}}</h2><a href="{{p.conflictsExport}}" download>{{t.exportCsv}}</a></div>
        {{^p.hasConflicts}}<p class="muted">{{t.noConflicts}}</p>{{/p.hasConflicts}}
        {{#p.conflicts}}
        <article class="card" data-conflict="{{entity}}/{{field}}">
        <h3><a href="{{href}}">{{householdLabel}}</a> · {{kind}} · {{fieldLabel}}</h3>
        <p class="muted">{{reason}} · {{district}}</p>
        <div class="heads">
        {{#heads}}<div class="head{{#shown}} shown{{/shown}}">
        <p class="value">{{value}}</p>
        <p class="muted">{{t.writer}}: {{writer}}<br>{{t.writtenAt}}: {{time}}</p>
        {{#shown}}<p><span class="tag">{{t.shownValue}}</span></p>{{/shown}}
        {{#canOverturn}}<form method="post" action="/dashboard/review/overturn?district={{p.district}}">
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="household" value="{{household}}"><input type="hidden" name="entity" value="{{entity}}"><input type="hidden" name="field" value="{{field}}"><input type="hidden" name="head" value="{{write}}">
        <button type="submit" class="secondary">{{t.overturnUse}}</button>
        </form>{{/canOverturn}}
        </div>
        {{/heads}}</div>
        <div class="actions">
        <form method="post" action="/dashboard/review/confirm?district={{p.district}}">
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="household" value="{{household}}"><input type="hidden" name="entity" value="{{entity}}"><input type="hidden" name="field" value="{{field}}">
        <button type="submit">{{#isDeletion}}{{t.confirmDeletion}}{{/isDeletion}}{{^isDeletion}}{{t.confirmShown}}{{/isDeletion}}</button>
        </form>
        {{#isDeletion}}<form method="post" action="/dashboard/review/overturn?district={{p.district}}">
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="household" value="{{household}}"><input type="hidden" name="entity" value="{{entity}}"><input type="hidden" name="field" value="{{field}}">
        <button type="submit" class="secondary">{{t.restoreEntry}}</button>
        </form>{{/isDeletion}}
        {{^isDeletion}}<form method="post" action="/dashboard/review/overturn?district={{p.district}}" class="typed">
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="household" value="{{household}}"><input type="hidden" name="entity" value="{{entity}}"><input type="hidden" name="field" value="{{field}}">
        <label for="typed-{{entity}}-{{field}}">{{t.typedValue}}{{#isMoney}}{{t.inYuan}}{{/isMoney}}</label>
        <input type="text" id="typed-{{entity}}-{{field}}" name="value" required autocomplete="off">
        <button type="submit" class="secondary">{{t.useTypedValue}}</button>
        </form>{{/isDeletion}}
        </div>
        </article>
        {{/p.conflicts}}
        </section>
        <section aria-labelledby="h-duplicates">
        <div class="table-head"><h2 id="h-duplicates">{{t.duplicates}}</h2><a href="{{p.duplicatesExport}}" download>{{t.exportCsv}}</a></div>
        {{^p.hasDuplicates}}<p class="muted">{{t.noDuplicates}}</p>{{/p.hasDuplicates}}
        {{#p.hasDuplicates}}<div class="scroll"><table data-table="duplicates">
        <thead><tr><th scope="col">{{t.survivor}}</th><th scope="col">{{t.alias}}</th><th scope="col">{{t.district}}</th><th scope="col">{{t.action}}</th></tr></thead>
        <tbody>
        {{#p.duplicates}}<tr><td><a href="{{href}}">{{label}}</a></td><td>{{alias}}</td><td>{{district}}</td>
        <td><form method="post" action="/dashboard/review/unlink?district={{p.district}}"><input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="survivor" value="{{survivor}}"><input type="hidden" name="alias" value="{{alias}}"><button type="submit" class="secondary">{{t.unlink}}</button></form></td></tr>
        {{/p.duplicates}}</tbody>
        </table></div>{{/p.hasDuplicates}}
        </section>
        {{#p.hasHeld}}<section aria-labelledby="h-held">
        <h2 id="h-held">{{t.heldTitle}}</h2>
        <p class="muted">{{t.heldExplain}}</p>
        {{#p.held}}
        <article class="card" data-held="{{device}}/{{seq}}">
        <h3>{{operation}} {{kind}} · {{#href}}<a href="{{href}}">{{householdLabel}}</a>{{/href}}{{^href}}{{householdLabel}}{{/href}}</h3>
        <p class="muted">{{t.heldWriter}}: {{writer}} · {{t.heldSeq}} {{seq}} · {{t.heldWrittenAt}}: {{writtenAt}}</p>
        <dl class="facts">{{#fields}}<dt>{{label}}</dt><dd>{{value}}</dd>{{/fields}}</dl>
        <div class="actions">
        <form method="post" action="/dashboard/review/held/accept?district={{p.district}}">
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="device" value="{{device}}"><input type="hidden" name="seq" value="{{seq}}">
        <button type="submit">{{t.acceptHeld}}</button>
        </form>
        <form method="post" action="/dashboard/review/held/dismiss?district={{p.district}}">
        <input type="hidden" name="csrf" value="{{c.csrf}}"><input type="hidden" name="device" value="{{device}}"><input type="hidden" name="seq" value="{{seq}}">
        <label for="reason-{{device}}-{{seq}}">{{t.dismissReason}}</label>
        <input type="text" id="reason-{{device}}-{{seq}}" name="reason" required maxlength="500" autocomplete="off">
        <button type="submit" class="secondary">{{t.dismissHeld}}</button>
        </form>
        </div>
        </article>
        {{/p.held}}
        </section>{{/p.hasHeld}}
        {{#p.table_rejections}}{{> table}}{{/p.table_rejections}}
        {{#p.table_clock}}{{> table}}{{/p.table_clock}}
        {{> footer}}
        """
}
