extension DashboardTemplates {
    /// An error page: what went wrong, its code, the way back.
    static let error = """
        {{> header}}
        <p>{{p.message}}</p>
        <p class="muted">{{t.errorCode}}: {{p.code}}</p>
        <p><a href="/dashboard">{{t.backToOverview}}</a></p>
        {{> footer}}
        """
}
