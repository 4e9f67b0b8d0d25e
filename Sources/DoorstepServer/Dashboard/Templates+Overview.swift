extension DashboardTemplates {
    /// The overview: campaign stage, files by status, rates, assistance, causes, devices.
    static let overview = """
        {{> header}}
        \(districtPicker(action: "/dashboard"))
        {{#p.hasCampaigns}}<form class="filters" method="get" action="/dashboard">
        {{#p.isCity}}<input type="hidden" name="district" value="{{p.district}}">{{/p.isCity}}
        <div><label for="campaign">{{t.campaign}}</label><select id="campaign" name="campaign">{{#p.campaigns}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/p.campaigns}}</select></div>
        <div><button type="submit">{{t.show}}</button></div>
        </form>{{/p.hasCampaigns}}
        <div class="cards">
        <section class="card" aria-labelledby="h-stage"><h2 id="h-stage">{{t.campaignStage}}</h2>
        <p>{{p.campaign}}<br><span class="muted">{{p.campaignWindow}}</span></p>
        {{#p.stage}}<p class="figure" data-figure="stage">{{name}}</p><p>{{start}} – {{end}}</p>
        <p>{{t.daysLeft}}: <strong data-figure="daysLeft">{{daysLeft}}</strong></p>{{/p.stage}}
        {{^p.stage}}<p>{{t.noStageToday}}</p>{{/p.stage}}
        {{#p.campaignOver}}<p class="error" data-figure="campaignOver">{{.}}</p>{{/p.campaignOver}}
        <p class="muted">{{t.asOf}} {{p.today}}</p>
        </section>
        <section class="card" aria-labelledby="h-households"><h2 id="h-households">{{t.households}}</h2>
        <p class="figure" data-figure="households">{{p.households}}</p>
        <dl class="facts">
        <dt>{{t.createdSinceStart}}</dt><dd data-figure="createdSinceStart">{{p.createdSinceStart}}</dd>
        <dt>{{t.wrong}}</dt><dd data-figure="wrong">{{p.wrong}}</dd>
        <dt>{{t.twice}}</dt><dd data-figure="twice">{{p.twice}}</dd>
        <dt>{{t.belowMinimumLiving}}</dt><dd data-figure="belowMinimumLiving">{{p.belowMinimumLiving}}</dd>
        </dl>
        </section>
        <section class="card" aria-labelledby="h-pending"><h2 id="h-pending">{{t.pendingReview}}</h2>
        <dl class="facts">
        <dt>{{t.conflicts}}</dt><dd data-figure="conflicts">{{p.review.conflicts}}</dd>
        <dt>{{t.duplicates}}</dt><dd data-figure="duplicates">{{p.review.duplicates}}</dd>
        <dt>{{t.rejections}}</dt><dd data-figure="rejections">{{p.review.rejections}}</dd>
        <dt>{{t.staleDevices}}</dt><dd data-figure="staleDevices">{{p.staleDevices}}</dd>
        </dl>
        <p><a href="{{p.reviewHref}}">{{t.openReview}}</a></p>
        </section>
        </div>
        <div class="cards">
        <section class="card" aria-labelledby="h-coverage"><h2 id="h-coverage">{{t.visitsDoneDue}}</h2>
        {{#p.coverage}}{{> progress}}{{/p.coverage}}
        <p>{{t.missedCount}}: <strong data-figure="missed">{{p.missed}}</strong> · <a href="#table-missed">{{t.missedList}}</a></p>
        </section>
        <section class="card" aria-labelledby="h-exit"><h2 id="h-exit">{{t.exitRate}}</h2>
        {{#p.exitRate}}{{> progress}}{{/p.exitRate}}
        <h3>{{t.resolvedRate}}</h3>
        {{#p.resolvedRate}}{{> progress}}{{/p.resolvedRate}}
        </section>
        <section class="card" aria-labelledby="h-assistance"><h2 id="h-assistance">{{t.assistance}}</h2>
        <dl class="facts">
        <dt>{{t.assistanceDone}}</dt><dd data-figure="assistanceDone">{{p.assistance.done}}</dd>
        <dt>{{t.assistanceOpen}}</dt><dd data-figure="assistanceOpen">{{p.assistance.open}}</dd>
        <dt>{{t.assistanceOverdue}}</dt><dd data-figure="assistanceOverdue">{{p.assistance.overdue}}</dd>
        <dt>{{t.assistanceCancelled}}</dt><dd data-figure="assistanceCancelled">{{p.assistance.cancelled}}</dd>
        </dl>
        </section>
        </div>
        <div class="cards">
        <section class="card" aria-labelledby="h-status"><h2 id="h-status">{{t.filesByStatus}}</h2>{{#p.statusChart}}{{> barchart}}{{/p.statusChart}}</section>
        <section class="card" aria-labelledby="h-causes"><h2 id="h-causes">{{t.causes}}</h2>{{#p.causesChart}}{{> barchart}}{{/p.causesChart}}</section>
        </div>
        <section class="card" aria-labelledby="h-weeks"><div class="table-head"><h2 id="h-weeks">{{t.weeksTitle}}</h2><a href="{{p.weeksExport}}" download>{{t.exportCsv}}</a></div>
        {{#p.weeksChart}}{{#hasWeeks}}{{> weeklychart}}{{/hasWeeks}}{{^hasWeeks}}<p class="muted">{{t.noStageToday}}</p>{{/hasWeeks}}{{/p.weeksChart}}
        </section>
        {{#p.table_districts}}{{> table}}{{/p.table_districts}}
        {{#p.table_missed}}{{> table}}{{/p.table_missed}}
        {{#p.table_wrong}}{{> table}}{{/p.table_wrong}}
        {{#p.table_status}}{{> table}}{{/p.table_status}}
        {{#p.table_causes}}{{> table}}{{/p.table_causes}}
        {{#p.table_devices}}{{> table}}{{/p.table_devices}}
        {{> footer}}
        """
}
