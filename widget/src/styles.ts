// The widget's only stylesheet, inside its shadow root: the host page's styles do not reach in
// and these do not leak out.
export const CSS = `
:host{all:initial}
*{box-sizing:border-box;font:inherit;color:inherit}
[hidden]{display:none!important}
.sb{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933}
.lw{position:fixed;right:20px;bottom:20px;z-index:2147483000;display:flex;flex-direction:column;align-items:flex-end;gap:6px}
.launcher{display:flex;align-items:center;gap:10px;border:0;border-radius:26px;padding:12px 20px;background:#1d4ed8;color:#fff;font-weight:600;font-size:15px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.launcher:hover{background:#1e40af}
.dot{width:11px;height:11px;border-radius:50%;background:#9ca3af;box-shadow:0 0 0 2px #fff;flex:none}
.on .dot{background:#22c55e}
.lb{position:relative}
.n{position:absolute;top:-8px;right:-6px;min-width:24px;height:24px;padding:0 7px;border-radius:12px;background:#dc2626;color:#fff;font-size:13px;font-weight:700;line-height:24px;text-align:center;box-shadow:0 0 0 2px #fff;pointer-events:none}
.pv{margin:0;max-width:min(280px,calc(100vw - 40px));padding:10px 14px;background:#fff;border-radius:12px 12px 4px 12px;box-shadow:0 4px 14px rgba(0,0,0,.22);cursor:pointer}
.pv span{overflow:hidden;overflow-wrap:anywhere;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical}
.pv b{font-weight:700}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.cap{font-size:12px;color:#374151;background:#fff;border-radius:10px;padding:2px 9px;box-shadow:0 1px 4px rgba(0,0,0,.18)}
.card{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:360px;height:520px;max-height:calc(100vh - 40px);background:#fff;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.3);display:flex;overflow:hidden}
section{display:flex;flex-direction:column;flex:1;min-width:0}
.hd{display:flex;align-items:center;gap:8px;padding:6px 6px 6px 14px;min-height:56px;background:#1d4ed8;color:#fff}
.hd div{flex:1;min-width:0}
h2{margin:0;font-size:16px;font-weight:600;flex:1}
.op{margin:0;font-size:12px;opacity:.9;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.invite .op{font-size:14px;font-weight:600;opacity:1}
.it{margin:8px 0 12px;white-space:pre-wrap;overflow-wrap:anywhere}
.x{background:none;border:0;color:#fff;font-size:24px;line-height:1;width:44px;height:44px;border-radius:6px;cursor:pointer;flex:none}
.x:hover{background:rgba(255,255,255,.15)}
.conn{margin:0;padding:6px 14px;background:#fef3c7;color:#713f12;font-size:13px;text-align:center}
.conn.ok{background:#dcfce7;color:#14532d}
.body{padding:16px;display:flex;flex-direction:column;gap:10px;overflow:auto;flex:1}
.body p{margin:0}
label{font-weight:600;font-size:13px;margin-bottom:-6px}
input,textarea{width:100%;min-height:44px;padding:9px 10px;border:1px solid #cbd5e1;border-radius:8px;background:#fff;color:#1f2933}
input:disabled{background:#f1f5f9}
::placeholder{color:#64748b;opacity:1}
textarea{resize:vertical;min-height:110px}
.btn{min-height:44px;min-width:44px;padding:9px 14px;border-radius:8px;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer}
.btn:disabled{opacity:.5;cursor:default}
button{-webkit-tap-highlight-color:transparent}
.btn:active{filter:brightness(.9)}
.btn2{background:#fff;color:#1d4ed8}
.link{background:none;border:0;padding:0 2px;min-height:44px;color:#1d4ed8;text-decoration:underline;cursor:pointer;align-self:flex-start}
.row{display:flex;gap:8px;flex-wrap:wrap}
.row .btn{flex:1}
.notice,.err{color:#b91c1c;font-size:13px}
.err{margin:-4px 0 0}
[aria-invalid=true]{border-color:#b91c1c;box-shadow:0 0 0 1px #b91c1c}
.notice:empty{display:none}
.intro{font-weight:600}
.note{color:#64748b;font-size:13px}
progress{width:100%;height:10px;accent-color:#1d4ed8}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8fafc}
.m{margin:0;max-width:85%;padding:7px 10px;border-radius:10px;background:#fff;border:1px solid #e2e8f0;white-space:pre-wrap;overflow-wrap:anywhere;align-self:flex-start}
.m.v{align-self:flex-end;background:#dbeafe;border-color:#bfdbfe}
.m.s{align-self:center;background:none;border:0;color:#64748b;font-style:italic;font-size:13px;text-align:center;max-width:100%}
.who,.st{display:block;font-size:11px;font-weight:600;color:#475569}
.st{font-weight:400}
.failed .st{color:#b91c1c}
.m a{color:#1d4ed8;text-decoration:underline}
.chat .notice{padding:0 12px}
.compose{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #e2e8f0}
.compose input{flex:1}
.foot{padding:0 12px 12px}
.mail{padding:10px 12px;border-top:1px solid #e2e8f0}
.mail label{display:block;margin:0 0 6px}
.mr{display:flex;gap:8px}
.mr input{flex:1;min-width:0}
.mst{margin:0;font-size:13px;overflow-wrap:anywhere}
.mst:not(:empty){margin-top:6px}
.mst.bad{color:#b91c1c}
.badge{background:#f59e0b;color:#111;border-radius:10px;padding:2px 8px;font-size:11px;font-weight:700;flex:none}
.call{padding:8px 12px;display:flex;flex-direction:column;gap:6px;background:#eff6ff;border-bottom:1px solid #bfdbfe}
.ci{display:flex;align-items:center;gap:8px;font-weight:600}
.ct{flex:1}
.ck{font-variant-numeric:tabular-nums}
.lv{width:48px;height:8px;border-radius:4px;background:#cbd5e1;overflow:hidden;flex:none}
.lv i{display:block;height:100%;width:0;background:#16a34a}
[aria-pressed=true]{background:#1d4ed8;color:#fff}
.call .btn{padding:9px 10px;flex:auto}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
@media (max-width:480px){.card{inset:0;width:100%;height:100%;max-height:none;border-radius:0}input,textarea{font-size:16px}}
`;
