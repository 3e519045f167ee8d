import { createContext } from 'preact';
import { useContext, useEffect, useErrorBoundary, useState } from 'preact/hooks';
import { ApiFailure, getMe, hasKey, setKey, type Me } from './api';
import { Brand, ErrorBox, Loading } from './components/common';
import { href, useRoute, type Route } from './router';
import { ApprovalsPage } from './pages/approvals';
import { CardPage } from './pages/card';
import { CardsPage } from './pages/cards';
import { DeliveriesPage } from './pages/deliveries';
import { OverviewPage } from './pages/overview';
import { PolicyPage } from './pages/policy';
import { ReconciliationPage } from './pages/reconciliation';
import { SignIn } from './pages/sign-in';

const MeContext = createContext<Me | null>(null);

/** The signed-in key: its id, role and tenant. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside the signed-in console');
  return me;
}

const NAV: Array<{ label: string; to: string; pages: Route['page'][] }> = [
  { label: 'Overview', to: href.overview(), pages: ['overview'] },
  { label: 'Cards', to: href.cards(), pages: ['cards', 'card'] },
  { label: 'Approvals', to: href.approvals(), pages: ['approvals'] },
  { label: 'Deliveries', to: href.deliveries(), pages: ['deliveries'] },
  { label: 'Reconciliation', to: href.reconciliation(), pages: ['reconciliation'] },
  { label: 'Policy', to: href.policy(), pages: ['policy'] },
];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'cards':
      return <CardsPage />;
    case 'card':
      return <CardPage key={route.id} id={route.id} />;
    case 'approvals':
      return <ApprovalsPage />;
    case 'deliveries':
      return <DeliveriesPage id={route.id} />;
    case 'reconciliation':
      return <ReconciliationPage />;
    case 'policy':
      return <PolicyPage />;
    case 'not_found':
      return (
        <div class="page">
          <h1>Not found</h1>
          <p>
            There is no console page at <code>{route.path}</code>.{' '}
            <a href={href.overview()}>Go to the overview</a>.
          </p>
        </div>
      );
  }
}

/** A page that throws while rendering says so (with the error) instead of going blank. */
function Guarded({ route }: { route: Route }) {
  const [error, reset] = useErrorBoundary();
  if (error)
    return (
      <div class="page">
        <h1>This page failed</h1>
        <ErrorBox error={error} title="The console hit an error showing this page" />
        <button type="button" class="btn" onClick={reset}>
          Try again
        </button>
      </div>
    );
  return <Page route={route} />;
}

export function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(hasKey());
  const [startError, setStartError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  // A key kept in this tab's session: ask who it is (it may have been revoked meanwhile).
  useEffect(() => {
    if (!hasKey()) return;
    getMe()
      .then((m) => {
        if (m.role === 'operator' || m.role === 'approver') setMe(m);
        else setKey(null);
      })
      .catch((err) => {
        if (err instanceof ApiFailure && err.status === 401) {
          setKey(null);
          setNotice('Your key is no longer valid. Sign in again.');
        } else setStartError(err);
      })
      .finally(() => setChecking(false));
  }, []);

  const signOut = () => {
    setKey(null);
    setMe(null);
    setNotice('Signed out. The key was removed from this tab.');
  };

  if (checking) return <Loading what="the console" />;
  if (startError)
    return (
      <main class="page" id="main">
        <h1>The console could not start</h1>
        <ErrorBox error={startError} title="The API did not answer as expected" />
        <button type="button" class="btn" onClick={() => location.reload()}>
          Try again
        </button>
      </main>
    );
  if (!me) return <SignIn notice={notice} onSignedIn={(m) => (setNotice(null), setMe(m))} />;

  return (
    <MeContext.Provider value={me}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <div class="shell">
        <aside class="sidebar">
          <Brand />
          <nav aria-label="Console">
            <ul>
              {NAV.map((n) => (
                <li key={n.to}>
                  <a href={n.to} aria-current={n.pages.includes(route.page) ? 'page' : undefined}>
                    {n.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        </aside>
        <div class="main-col">
          <header class="topbar">
            <div class="tenant">
              <span class="tenant-name">{me.tenant?.name}</span>
              <span class="muted">{me.tenant?.slug}</span>
            </div>
            <div class="who">
              <span class="muted">Signed in as</span> <span>{me.name ?? me.keyId}</span>{' '}
              <span class="sr-only">, role</span>
              <span class={`role role-${me.role}`} title="The role of your key">
                {me.role}
              </span>
              <button type="button" class="btn btn-ghost" onClick={signOut}>
                Sign out
              </button>
            </div>
          </header>
          <main id="main" class="content">
            <Guarded key={route.page} route={route} />
          </main>
        </div>
      </div>
    </MeContext.Provider>
  );
}
