extension DashboardTemplates {
    /// The sign-in form.
    static let signIn = """
        {{> header}}
        <form class="signin" method="post" action="/dashboard/signin">
        <input type="hidden" name="csrf" value="{{p.csrf}}">
        <input type="hidden" name="next" value="{{p.next}}">
        <label for="name">{{t.accountName}}</label>
        <input type="text" id="name" name="name" value="{{p.name}}" autocomplete="username" autocapitalize="none" spellcheck="false" required>
        <label for="password">{{t.password}}</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required>
        <p><button type="submit">{{t.signIn}}</button></p>
        <p class="muted">{{t.signInHint}}</p>
        </form>
        {{> footer}}
        """
}
