extension DashboardTemplates {
    /// The households in view, filtered by district, status and a search text.
    static let households = """
        {{> header}}
        <form class="filters" method="get" action="/dashboard/households">
        {{#p.isCity}}<div><label for="district">{{t.district}}</label>
        <select id="district" name="district"><option value=""{{#p.allSelected}} selected{{/p.allSelected}}>{{t.allDistricts}}</option>{{#p.districts}}<option value="{{code}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/p.districts}}</select></div>{{/p.isCity}}
        <div><label for="status">{{t.status}}</label>
        <select id="status" name="status"><option value=""{{#p.anyStatus}} selected{{/p.anyStatus}}>{{t.anyStatus}}</option>{{#p.statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/p.statuses}}</select></div>
        <div><label for="q">{{t.search}}</label><input type="search" id="q" name="q" value="{{p.q}}"></div>
        <div><button type="submit">{{t.show}}</button></div>
        </form>
        {{#p.table}}{{> table}}{{/p.table}}
        <nav class="pager"><span data-figure="pageOf">{{p.pageOf}}</span>{{#p.previous}} · <a href="{{.}}" rel="prev">{{t.pagePrevious}}</a>{{/p.previous}}{{#p.next}} · <a href="{{.}}" rel="next">{{t.pageNext}}</a>{{/p.next}}</nav>
        {{> footer}}
        """
}
