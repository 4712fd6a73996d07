import { Button, Result } from 'antd';
import { useNavigate } from 'react-router-dom';
import { useT } from '../i18n';

export function Forbidden({ detail }: { detail?: string }) {
  const t = useT();
  const navigate = useNavigate();
  return (
    <Result
      status="403"
      title={<span data-testid="forbidden-title">{t('err.403.title')}</span>}
      subTitle={
        <span data-testid="forbidden-page">
          {t('err.403.desc')}
          {detail ? (
            <>
              <br />
              {detail}
            </>
          ) : null}
        </span>
      }
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          {t('err.home')}
        </Button>
      }
    />
  );
}

export function NotFound() {
  const t = useT();
  const navigate = useNavigate();
  return (
    <Result
      status="404"
      title={<span data-testid="notfound-title">{t('err.404.title')}</span>}
      subTitle={<span data-testid="notfound-page">{t('err.404.desc')}</span>}
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          {t('err.home')}
        </Button>
      }
    />
  );
}
