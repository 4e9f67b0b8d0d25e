/// The look Doorstep's pages share (the office dashboard, the field app): one style sheet, sent
/// inline and allowed by its hash in each page's Content-Security-Policy. Plain system fonts
/// (the Chinese ones each system has), large enough targets, a visible focus ring.
public enum WebStyle {
    public static let base = """
        :root{color-scheme:light}*{box-sizing:border-box}
        body{margin:0;font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a;background:#f4f6f8}
        a{color:#0b4f9c}a:focus,button:focus,input:focus,input:focus-within,select:focus,textarea:focus,summary:focus{outline:3px solid #c77700;outline-offset:2px}
        .skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;color:#0b4f9c;padding:4px 8px}
        header.top{background:#0d3b66;color:#fff;display:flex;flex-wrap:wrap;align-items:center;gap:8px 24px;padding:10px 16px}
        header.top a{color:#fff}.brand{font-weight:700;font-size:1.1rem}
        header nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 18px}
        header nav a[aria-current=page]{text-decoration:none;border-bottom:3px solid #ffc857;font-weight:700}
        .who{margin-left:auto;font-size:.9rem}form.inline{display:inline}
        button.link{background:none;border:none;color:#fff;text-decoration:underline;cursor:pointer;font:inherit;padding:0 0 0 8px}
        main{max-width:1200px;margin:0 auto;padding:16px}h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .5rem}h3{font-size:1rem;margin:.5rem 0}
        .cards{display:flex;flex-wrap:wrap;gap:16px;margin-bottom:16px}
        .card{background:#fff;border:1px solid #c4ccd4;border-radius:6px;padding:16px;flex:1 1 280px;min-width:0}
        .figure{font-size:1.8rem;font-weight:700;margin:.25rem 0}.muted{color:#4a5560}
        .flash{background:#e6f4ea;border:1px solid #1f7a4d;padding:8px 12px;border-radius:4px}
        .error{background:#fdecea;border:1px solid #a30000;color:#7a0000;padding:8px 12px;border-radius:4px}
        section{margin-bottom:24px}.cards>section{margin-bottom:0}.scroll{overflow-x:auto}
        table{border-collapse:collapse;width:100%;background:#fff}
        th,td{border:1px solid #c4ccd4;padding:6px 8px;text-align:left;vertical-align:top}th{background:#e9eef3}
        td.num{text-align:right;font-variant-numeric:tabular-nums}tr.stale td,tr.conflict td{background:#fff1db}
        .tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:.85rem;background:#0b4f9c;color:#fff}
        .table-head{display:flex;justify-content:space-between;align-items:baseline;gap:8px;flex-wrap:wrap}
        .chart{width:100%;max-width:560px;height:auto}.chart text{font-size:15px;fill:#1a1a1a}
        .progress{width:100%;max-width:400px;height:auto}
        label{display:block;font-weight:600;margin:8px 0 4px}
        input[type=text],input[type=password],input[type=search],input[type=file],select{font:inherit;padding:8px;border:1px solid #5c6773;border-radius:4px;width:100%;max-width:360px;background:#fff;color:#1a1a1a}
        button{font:inherit;background:#0b4f9c;color:#fff;border:1px solid #0b4f9c;border-radius:4px;padding:8px 16px;cursor:pointer}
        button.secondary{background:#fff;color:#0b4f9c}
        .heads{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
        .head{flex:1 1 220px;border:1px solid #c4ccd4;border-radius:6px;padding:12px;background:#fafbfc}.head.shown{border:2px solid #0b4f9c}
        .value{font-size:1.1rem;font-weight:600;margin:0 0 .25rem;word-break:break-word}
        .filters{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end;margin-bottom:16px}.filters div{min-width:180px}
        .signin{max-width:420px;margin:24px auto;background:#fff;padding:24px;border:1px solid #c4ccd4;border-radius:6px}
        .actions{display:flex;flex-wrap:wrap;gap:8px}
        dl.facts{display:grid;grid-template-columns:minmax(0,max-content) auto;justify-content:start;gap:4px 16px;margin:0}dl.facts dd{margin:0;font-variant-numeric:tabular-nums}
        footer.foot{max-width:1200px;margin:0 auto;padding:8px 16px 24px}
        @media (max-width:600px){.who{margin-left:0}main{padding:8px}.figure{font-size:1.4rem}.card{padding:12px}}
        """
}
