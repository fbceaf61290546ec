// Taawun web chat: gets a signed identity once, keeps it in localStorage, and speaks the
// websocket protocol documented in README.md. No framework, so it loads fast on a phone.
(function () {
  'use strict';
  var TOKEN_KEY = 'taawun.webchat.token';
  var log = document.getElementById('log');
  var replies = document.getElementById('replies');
  var form = document.getElementById('form');
  var input = document.getElementById('input');
  var status = document.getElementById('status');
  var socket = null;
  var retryMs = 500;
  var typing = null;

  function setStatus(text) { status.textContent = text; }

  function bubble(kind, text) {
    var li = document.createElement('li');
    li.className = 'msg msg--' + kind;
    li.setAttribute('dir', 'auto');
    li.textContent = text;
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }

  function showReplies(list) {
    replies.textContent = '';
    (list || []).forEach(function (reply) {
      var button = document.createElement('button');
      button.type = 'button';
      button.setAttribute('dir', 'auto');
      button.textContent = reply.title;
      button.addEventListener('click', function () { send(reply.title, reply.payload); });
      replies.appendChild(button);
    });
  }

  function clearTyping() { if (typing) { typing.remove(); typing = null; } }

  function onFrame(frame) {
    if (frame.type === 'history') {
      log.textContent = '';
      frame.messages.forEach(function (m) { bubble(m.direction, m.text); });
      var last = frame.messages[frame.messages.length - 1];
      showReplies(last && last.direction === 'out' ? last.quick_replies : null);
    } else if (frame.type === 'message') {
      clearTyping();
      bubble('out', frame.text);
      showReplies(frame.quick_replies);
    } else if (frame.type === 'typing') {
      if (!typing) typing = bubble('typing', '…');
    } else if (frame.type === 'error') {
      bubble('error', frame.message);
    }
  }

  function send(text, payload) {
    text = text.trim();
    if (!text || !socket || socket.readyState !== 1) return;
    var frame = { type: 'message', text: text };
    if (payload) frame.payload = payload;
    socket.send(JSON.stringify(frame));
    bubble('in', text);
    showReplies(null);
  }

  // Asks the server to resume the stored identity (or issue one) before every connection,
  // so a server restart keeps the visitor and a token the server no longer accepts is replaced.
  function session() {
    var stored = localStorage.getItem(TOKEN_KEY);
    return fetch('/webchat/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(stored ? { token: stored } : {})
    })
      .then(function (r) { if (!r.ok) throw new Error('session ' + r.status); return r.json(); })
      .then(function (s) { localStorage.setItem(TOKEN_KEY, s.token); return s.token; });
  }

  function connect() {
    setStatus('…');
    session().then(function (token) {
      var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
      socket = new WebSocket(scheme + location.host + '/ws?token=' + encodeURIComponent(token));
      socket.onopen = function () { retryMs = 500; setStatus('en ligne · متصل'); };
      socket.onmessage = function (event) {
        try { onFrame(JSON.parse(event.data)); } catch (e) { /* a frame we cannot read is skipped */ }
      };
      socket.onclose = function () {
        setStatus('hors ligne · غير متصل');
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 10000);
      };
    }).catch(function () {
      setStatus('hors ligne · غير متصل');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    send(input.value);
    input.value = '';
  });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  connect();
})();
